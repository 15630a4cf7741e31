package dev.iotjobs.localhub.c2d;

import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.store.HubStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Cloud-to-device queues with IoT Hub's semantics ("Send cloud-to-device messages from an IoT hub"): one durable
 * FIFO queue per device of at most 50 messages; a message is Enqueued, then Invisible (locked) when handed to the
 * device, then Completed, or Dead-lettered when it expires, is rejected or was abandoned too often. A lock that
 * expires puts the message back without counting a delivery; an abandon counts one. Outcomes become feedback
 * records ({@link FeedbackQueue}) when the message asked for them. The one owner of the queues' state; methods
 * that commit block (call them from a worker thread).
 */
public final class C2dQueues implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(C2dQueues.class);
    private final C2dStore store;
    private final DeviceRegistry registry;
    private final Clock clock;
    private final C2dSettings settings;
    private final FeedbackQueue feedback;
    private final Map<String, DeviceQueue> queues = new ConcurrentHashMap<>();
    private final AtomicLong nextSequence = new AtomicLong(1);
    private final List<Consumer<String>> enqueuedListeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService sweeper;

    private static final class Entry {
        final C2dMessage message;
        int deliveryCount;
        boolean handedOut;
        String lockToken;
        /** Null while the lock is held by a connection (MQTT: until PUBACK or disconnect). */
        Instant lockedUntil;

        Entry(C2dMessage message, int deliveryCount) {
            this.message = message;
            this.deliveryCount = deliveryCount;
        }

        boolean locked(Instant now) {
            return lockToken != null && (lockedUntil == null || !lockedUntil.isBefore(now));
        }
    }

    private static final class DeviceQueue {
        final TreeMap<Long, Entry> entries = new TreeMap<>();
    }

    public C2dQueues(HubStore store, DeviceRegistry registry, Clock clock, C2dSettings settings) {
        this.store = new C2dStore(store);
        this.registry = registry;
        this.clock = clock;
        this.settings = settings;
        this.feedback = new FeedbackQueue(this.store, clock, settings);
        this.store.loadAll((m, deliveryCount) -> {
            queue(m.deviceId()).entries.put(m.sequenceNumber(), new Entry(m, deliveryCount));
            nextSequence.accumulateAndGet(m.sequenceNumber() + 1, Math::max);
        });
        queues.keySet().forEach(this::countChanged);
        registry.onRemovedOrDisabled(id -> {
            if (registry.find(id) == null) {
                deviceDeleted(id);
            }
        });
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "local-hub-c2d-sweeper");
            t.setDaemon(true);
            return t;
        });
        // Often enough that expiries, lock timeouts and feedback batches are due within a quarter of their time.
        long period = Math.max(50, Math.min(1000, Math.min(settings.feedbackInterval().toMillis(),
                settings.lockDuration().toMillis()) / 4));
        sweeper.scheduleWithFixedDelay(this::sweepQuietly, period, period, TimeUnit.MILLISECONDS);
    }

    public C2dSettings settings() {
        return settings;
    }

    /** The port the service side reads feedback from. */
    public FeedbackQueue feedback() {
        return feedback;
    }

    /** Told the device id each time a message becomes available to it (sent, abandoned, released). */
    public void onAvailable(Consumer<String> listener) {
        enqueuedListeners.add(listener);
    }

    private DeviceQueue queue(String deviceId) {
        return queues.computeIfAbsent(deviceId, k -> new DeviceQueue());
    }

    /**
     * Accepts a message for a device and commits it (blocking). Refusals: 404001 unknown device, 413001 over
     * 64 KB, 403004 the queue holds 50 messages, 400004 an expiry in the past.
     */
    public C2dMessage send(C2dSend send) {
        Device device = registry.find(send.deviceId());
        if (device == null) {
            throw ErrorCode.DEVICE_NOT_FOUND.exception("Device " + send.deviceId() + " is not registered: register it "
                    + "before sending it messages.");
        }
        int size = C2dMessage.size(send.messageId(), send.correlationId(), send.userId(), send.contentType(),
                send.contentEncoding(), send.properties(), send.body());
        if (size > settings.maxMessageBytes()) {
            throw ErrorCode.MESSAGE_TOO_LARGE.exception("The message is " + size + " bytes; a cloud-to-device message "
                    + "may have at most " + settings.maxMessageBytes() + " (body, property names and values).");
        }
        Instant now = clock.instant();
        Instant expiry = send.absoluteExpiry() != null ? send.absoluteExpiry() : now.plus(settings.defaultTtl());
        if (!expiry.isAfter(now)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The message's absolute expiry time " + expiry
                    + " has passed: give it a later one, or none for the hub's default time to live.");
        }
        String messageId = send.messageId() != null ? send.messageId() : UUID.randomUUID().toString();
        DeviceQueue q = queue(send.deviceId());
        C2dMessage m;
        synchronized (q) {
            if (q.entries.size() >= settings.maxQueueDepth()) {
                throw ErrorCode.DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED.exception("Device " + send.deviceId() + " has "
                        + q.entries.size() + " cloud-to-device messages waiting, the most a device may have; wait "
                        + "for it to receive them, or purge its queue.");
            }
            m = new C2dMessage(nextSequence.getAndIncrement(), send.deviceId(), messageId, send.correlationId(),
                    send.userId(), send.contentType(), send.contentEncoding(), send.ack(), send.properties(),
                    send.body(), now, expiry);
            store.save(m, 0);
            q.entries.put(m.sequenceNumber(), new Entry(m, 0));
        }
        countChanged(send.deviceId());
        available(send.deviceId());
        return m;
    }

    /**
     * Locks the device's next enqueued message and hands it out; null when there is none.
     *
     * @param lock how long it stays invisible, or null to hold it until {@link #complete} or {@link #release}
     *             (MQTT, where the device cannot abandon: the lock lives as long as its connection)
     */
    public C2dDelivery receive(String deviceId, Duration lock) {
        DeviceQueue q = queues.get(deviceId);
        if (q == null) {
            return null;
        }
        Instant now = clock.instant();
        synchronized (q) {
            for (Entry e : q.entries.values()) {
                if (!e.locked(now) && e.message.expiryTime().isAfter(now)) {
                    e.lockToken = UUID.randomUUID().toString();
                    e.lockedUntil = lock == null ? null : now.plus(lock);
                    boolean redelivered = e.handedOut;
                    e.handedOut = true;
                    return new C2dDelivery(e.message, e.lockToken, e.deliveryCount, redelivered);
                }
            }
        }
        return null;
    }

    /** True while {@code lockToken} still locks one of the device's messages. */
    public boolean holds(String deviceId, String lockToken) {
        DeviceQueue q = queues.get(deviceId);
        if (q == null || lockToken == null) {
            return false;
        }
        Instant now = clock.instant();
        synchronized (q) {
            for (Entry e : q.entries.values()) {
                if (lockToken.equals(e.lockToken) && e.locked(now)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The device completed a message (blocking): removed, positive feedback. 412002 when its lock was lost. */
    public void complete(String deviceId, String lockToken) {
        Entry e = settle(deviceId, lockToken);
        finish(e, "Success", "Success", true);
    }

    /** The device abandoned a message (blocking): enqueued again, one more delivery counted. */
    public void abandon(String deviceId, String lockToken) {
        DeviceQueue q = queue(deviceId);
        Entry e;
        synchronized (q) {
            e = locked(q, deviceId, lockToken);
            e.lockToken = null;
            e.deliveryCount++;
            if (e.deliveryCount < settings.maxDeliveryCount()) {
                store.save(e.message, e.deliveryCount);
                e = null;
            } else { // dead-lettered: IoT Hub keeps no dead-letter queue to read back
                store.delete(e.message);
                q.entries.remove(e.message.sequenceNumber());
            }
        }
        if (e == null) {
            available(deviceId);
        } else {
            finish(e, "DeliveryCountExceeded", "Message delivery count exceeded", false);
        }
    }

    /** The device rejected a message (blocking): dead-lettered, negative feedback. */
    public void reject(String deviceId, String lockToken) {
        Entry e = settle(deviceId, lockToken);
        finish(e, "Rejected", "Message rejected", false);
    }

    /** The connection holding a lock is gone: the message is enqueued again without counting a delivery. */
    public void release(String deviceId, String lockToken) {
        DeviceQueue q = queues.get(deviceId);
        if (q == null) {
            return;
        }
        synchronized (q) {
            for (Entry e : q.entries.values()) {
                if (lockToken.equals(e.lockToken)) {
                    e.lockToken = null;
                }
            }
        }
        available(deviceId);
    }

    /** Removes every message of a device (blocking) and returns how many; feedback Purged for those that ask. */
    public int purge(String deviceId) {
        if (registry.find(deviceId) == null) {
            throw ErrorCode.DEVICE_NOT_FOUND.exception("Device " + deviceId + " is not registered.");
        }
        DeviceQueue q = queues.get(deviceId);
        if (q == null) {
            return 0;
        }
        List<Entry> removed;
        synchronized (q) {
            removed = new ArrayList<>(q.entries.values());
            for (Entry e : removed) {
                store.delete(e.message);
            }
            q.entries.clear();
        }
        for (Entry e : removed) {
            feedback(e.message, "Purged", "Message purged", false);
        }
        countChanged(deviceId);
        return removed.size();
    }

    /** The device's queue as the console shows it: each message with its state and delivery count. */
    public List<C2dMessageState> list(String deviceId) {
        DeviceQueue q = queues.get(deviceId);
        List<C2dMessageState> out = new ArrayList<>();
        if (q != null) {
            Instant now = clock.instant();
            synchronized (q) {
                q.entries.values().forEach(e -> out.add(new C2dMessageState(e.message,
                        e.locked(now) ? "Invisible" : "Enqueued", e.deliveryCount)));
            }
        }
        return out;
    }

    /** Feedback records one answer of {@link #recentFeedback} holds at most. */
    public static final int MAX_FEEDBACK_RECORDS = 100;

    /**
     * The newest feedback records the hub produced for a device's messages (every device's when {@code deviceId}
     * is null), newest first, each with where its feedback message is (not batched yet, waiting for a feedback
     * receiver, received, completed, expired, dropped): what the console shows. At most {@code top} (1 to
     * {@value #MAX_FEEDBACK_RECORDS}, else 400004), among the hub's newest {@code recentFeedback}.
     */
    public List<FeedbackRecord> recentFeedback(String deviceId, int top) {
        if (top < 1 || top > MAX_FEEDBACK_RECORDS) {
            throw ErrorCode.ARGUMENT_INVALID.exception("top must be a number from 1 to " + MAX_FEEDBACK_RECORDS
                    + ", not " + top + ".");
        }
        return feedback.recent(deviceId == null || deviceId.isEmpty() ? null : deviceId, top);
    }

    /** Messages waiting for a device (enqueued or locked). */
    public int depth(String deviceId) {
        DeviceQueue q = queues.get(deviceId);
        if (q == null) {
            return 0;
        }
        synchronized (q) {
            return q.entries.size();
        }
    }

    private Entry settle(String deviceId, String lockToken) {
        DeviceQueue q = queue(deviceId);
        synchronized (q) {
            Entry e = locked(q, deviceId, lockToken);
            store.delete(e.message);
            q.entries.remove(e.message.sequenceNumber());
            return e;
        }
    }

    private Entry locked(DeviceQueue q, String deviceId, String lockToken) {
        Instant now = clock.instant();
        for (Entry e : q.entries.values()) {
            if (lockToken != null && lockToken.equals(e.lockToken) && e.locked(now)) {
                return e;
            }
        }
        throw ErrorCode.DEVICE_MESSAGE_LOCK_LOST.exception("The lock " + lockToken + " of a cloud-to-device message "
                + "of " + deviceId + " is unknown or expired (the message was settled, or enqueued again): receive it again.");
    }

    private void finish(Entry e, String status, String description, boolean positive) {
        feedback(e.message, status, description, positive);
        countChanged(e.message.deviceId());
    }

    private void feedback(C2dMessage m, String status, String description, boolean positive) {
        if (positive ? m.ack().wantsPositive() : m.ack().wantsNegative()) {
            Device d = registry.find(m.deviceId());
            if (d != null) {
                feedback.record(m, status, description, d.generationId());
            }
        }
    }

    private void deviceDeleted(String deviceId) {
        DeviceQueue q = queues.remove(deviceId);
        if (q != null) {
            synchronized (q) {
                q.entries.values().forEach(e -> store.delete(e.message));
                q.entries.clear();
            }
        }
        feedback.deviceDeleted(deviceId);
    }

    private void countChanged(String deviceId) {
        Device d = registry.find(deviceId);
        if (d != null) {
            d.runtime().cloudToDeviceMessageCount(depth(deviceId));
        }
    }

    private void available(String deviceId) {
        enqueuedListeners.forEach(l -> l.accept(deviceId));
    }

    private void sweepQuietly() {
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.warn("Cloud-to-device sweep failed", e);
        }
    }

    /** Dead-letters expired messages, puts messages with expired locks back, sends due feedback. */
    void sweep() {
        Instant now = clock.instant();
        for (Map.Entry<String, DeviceQueue> qe : queues.entrySet()) {
            List<Entry> expired = new ArrayList<>();
            boolean unlocked = false;
            DeviceQueue q = qe.getValue();
            synchronized (q) {
                for (Iterator<Entry> it = q.entries.values().iterator(); it.hasNext(); ) {
                    Entry e = it.next();
                    if (!e.message.expiryTime().isAfter(now)) {
                        store.delete(e.message);
                        it.remove();
                        expired.add(e);
                    } else if (e.lockToken != null && e.lockedUntil != null && e.lockedUntil.isBefore(now)) {
                        e.lockToken = null; // the lock expired: back in the queue, no delivery counted
                        unlocked = true;
                    }
                }
            }
            for (Entry e : expired) {
                finish(e, "Expired", "Message expired", false);
            }
            if (unlocked) {
                available(qe.getKey());
            }
        }
        feedback.tick();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
    }
}
