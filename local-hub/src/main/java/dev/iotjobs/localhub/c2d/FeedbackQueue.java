package dev.iotjobs.localhub.c2d;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The hub's durable feedback queue, the port the service side reads delivery acknowledgements from (IoT Hub's
 * {@code /messages/serviceBound/feedback}). Records are gathered into batches of {@code feedbackBatchSize}, or
 * fewer once {@code feedbackInterval} has passed; each batch is one message, locked to one reader at a time:
 * {@link #receive} then {@link #complete} or {@link #abandon} (a lock that expires puts it back). It also remembers
 * the newest {@code recentFeedback} records it produced with their batch's fate, for the console
 * ({@link #recent}): a bounded view, not a second queue.
 */
public final class FeedbackQueue {
    private final C2dStore store;
    private final Clock clock;
    private final C2dSettings settings;
    /** Records waiting for their batch, by their own sequence (stored, so a restart keeps them). */
    private final TreeMap<Long, ObjectNode> pending = new TreeMap<>();
    private long nextRecord = 1;
    private Instant lastBatch;
    private final TreeMap<Long, Entry> batches = new TreeMap<>();
    private long nextSequence = 1;

    /** The newest records, oldest first, at most {@code recentFeedback}. */
    private final ArrayDeque<Seen> recent = new ArrayDeque<>();
    /** The records of {@link #pending} that {@link #recent} may still show (they get their batch on flush). */
    private final List<Seen> pendingSeen = new ArrayList<>();

    private static final class Entry {
        FeedbackBatch batch;
        String lockToken;
        Instant lockedUntil;
        BatchView view;
    }

    /** A batch as the records of {@link #recent} see it; outlives the batch itself (completed, expired). */
    private static final class BatchView {
        final String messageId;
        FeedbackRecord.Batch state = FeedbackRecord.Batch.WAITING;
        int deliveryCount;

        BatchView(String messageId, int deliveryCount) {
            this.messageId = messageId;
            this.deliveryCount = deliveryCount;
        }
    }

    private static final class Seen {
        final ObjectNode record;
        BatchView batch;

        Seen(ObjectNode record, BatchView batch) {
            this.record = record;
            this.batch = batch;
        }
    }

    FeedbackQueue(C2dStore store, Clock clock, C2dSettings settings) {
        this.store = store;
        this.clock = clock;
        this.settings = settings;
        this.lastBatch = clock.instant();
        store.loadFeedback(e -> {
            Entry entry = new Entry();
            entry.batch = e.getValue();
            entry.view = new BatchView(entry.batch.messageId(), entry.batch.deliveryCount());
            batches.put(e.getKey(), entry);
            nextSequence = Math.max(nextSequence, e.getKey() + 1);
            for (var record : Json.readStoredArray(entry.batch.body())) {
                if (record instanceof ObjectNode r) {
                    remember(new Seen(r, entry.view));
                }
            }
        });
        store.loadRecords((sequence, record) -> {
            pending.put(sequence, record);
            nextRecord = Math.max(nextRecord, sequence + 1);
            Seen seen = new Seen(record, null);
            pendingSeen.add(seen);
            remember(seen);
        });
    }

    private void remember(Seen seen) {
        if (settings.recentFeedback() == 0) {
            return;
        }
        while (recent.size() >= settings.recentFeedback()) {
            recent.removeFirst();
        }
        recent.addLast(seen);
    }

    /**
     * The newest records the hub produced, newest first: of one device, or of every device when {@code deviceId}
     * is null; at most {@code top}, among the newest {@code recentFeedback} of the hub (older ones are forgotten,
     * as are those of a deleted device and, after a restart, those whose batch was completed before it).
     */
    public synchronized List<FeedbackRecord> recent(String deviceId, int top) {
        List<FeedbackRecord> out = new ArrayList<>();
        for (Iterator<Seen> it = recent.descendingIterator(); it.hasNext() && out.size() < top; ) {
            Seen s = it.next();
            ObjectNode r = s.record;
            if (deviceId == null || deviceId.equals(r.path("deviceId").asText())) {
                BatchView b = s.batch;
                out.add(new FeedbackRecord(Json.text(r, "originalMessageId"), Json.text(r, "enqueuedTimeUtc"),
                        Json.text(r, "statusCode"), Json.text(r, "description"), Json.text(r, "deviceId"),
                        Json.text(r, "deviceGenerationId"), b == null ? null : b.messageId,
                        b == null ? FeedbackRecord.Batch.PENDING : b.state, b == null ? 0 : b.deliveryCount));
            }
        }
        return out;
    }

    /** Adds one record (blocking when it completes a batch). */
    synchronized void record(C2dMessage m, String statusCode, String description, String generationId) {
        ObjectNode r = Json.object();
        r.put("originalMessageId", m.messageId());
        r.put("enqueuedTimeUtc", Json.time(clock.instant()));
        r.put("statusCode", statusCode);
        r.put("description", description);
        r.put("deviceId", m.deviceId());
        r.put("deviceGenerationId", generationId);
        long sequence = nextRecord++;
        store.saveRecord(sequence, r);
        pending.put(sequence, r);
        Seen seen = new Seen(r, null);
        pendingSeen.add(seen);
        remember(seen);
        if (pending.size() >= settings.feedbackBatchSize()) {
            flush();
        }
    }

    /** Drops the records of a deleted device that are not in a batch yet (IoT Hub drops them too). */
    synchronized void deviceDeleted(String deviceId) {
        for (Iterator<Map.Entry<Long, ObjectNode>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, ObjectNode> e = it.next();
            if (deviceId.equals(e.getValue().path("deviceId").asText())) {
                store.deleteRecord(e.getKey());
                it.remove();
            }
        }
        pendingSeen.removeIf(s -> deviceId.equals(s.record.path("deviceId").asText()));
        recent.removeIf(s -> deviceId.equals(s.record.path("deviceId").asText()));
    }

    /** Periodic: sends a smaller batch once the interval has passed, expires old batches and stale locks. */
    synchronized void tick() {
        Instant now = clock.instant();
        if (!pending.isEmpty() && !now.isBefore(lastBatch.plus(settings.feedbackInterval()))) {
            flush();
        }
        for (Iterator<Map.Entry<Long, Entry>> it = batches.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, Entry> e = it.next();
            Entry entry = e.getValue();
            if (entry.batch.enqueuedTime().plus(settings.feedbackTtl()).isBefore(now)) {
                store.deleteFeedback(e.getKey());
                it.remove();
                entry.view.state = FeedbackRecord.Batch.EXPIRED;
            } else if (entry.lockToken != null && entry.lockedUntil.isBefore(now)) {
                entry.lockToken = null;
                entry.view.state = FeedbackRecord.Batch.WAITING;
            }
        }
    }

    private void flush() {
        ArrayNode array = Json.NODES.arrayNode();
        pending.values().forEach(array::add);
        lastBatch = clock.instant();
        long sequence = nextSequence++;
        Entry entry = new Entry();
        entry.batch = new FeedbackBatch(null, UUID.randomUUID().toString(), Json.bytes(array), lastBatch, 0);
        entry.view = new BatchView(entry.batch.messageId(), 0);
        store.saveBatch(sequence, entry.batch, new ArrayList<>(pending.keySet()));
        pending.clear();
        pendingSeen.forEach(s -> s.batch = entry.view);
        pendingSeen.clear();
        batches.put(sequence, entry);
    }

    /** The oldest batch nobody holds, locked for {@code feedbackLock}; null when there is none. */
    public synchronized FeedbackBatch receive() {
        Instant now = clock.instant();
        for (Entry entry : batches.values()) {
            if (entry.lockToken == null || entry.lockedUntil.isBefore(now)) {
                entry.lockToken = UUID.randomUUID().toString();
                entry.lockedUntil = now.plus(settings.feedbackLock());
                entry.view.state = FeedbackRecord.Batch.RECEIVED;
                FeedbackBatch b = entry.batch;
                return new FeedbackBatch(entry.lockToken, b.messageId(), b.body(), b.enqueuedTime(), b.deliveryCount());
            }
        }
        return null;
    }

    /** Removes a received batch (blocking); 412002 when its lock was lost. */
    public synchronized void complete(String lockToken) {
        long sequence = locked(lockToken);
        store.deleteFeedback(sequence);
        batches.remove(sequence).view.state = FeedbackRecord.Batch.COMPLETED;
    }

    /** Puts a received batch back for the next reader (blocking). */
    public synchronized void abandon(String lockToken) {
        long sequence = locked(lockToken);
        Entry entry = batches.get(sequence);
        entry.lockToken = null;
        FeedbackBatch b = entry.batch;
        entry.batch = new FeedbackBatch(null, b.messageId(), b.body(), b.enqueuedTime(), b.deliveryCount() + 1);
        entry.view.deliveryCount = entry.batch.deliveryCount();
        entry.view.state = FeedbackRecord.Batch.WAITING;
        if (entry.batch.deliveryCount() >= 10) {
            store.deleteFeedback(sequence);
            batches.remove(sequence);
            entry.view.state = FeedbackRecord.Batch.DROPPED;
        } else {
            store.saveFeedback(sequence, entry.batch);
        }
    }

    /** Batches waiting (locked or not). */
    public synchronized int size() {
        return batches.size();
    }

    private long locked(String lockToken) {
        Instant now = clock.instant();
        for (Map.Entry<Long, Entry> e : batches.entrySet()) {
            Entry entry = e.getValue();
            if (lockToken != null && lockToken.equals(entry.lockToken) && !entry.lockedUntil.isBefore(now)) {
                return e.getKey();
            }
        }
        throw ErrorCode.DEVICE_MESSAGE_LOCK_LOST.exception("The feedback message's lock " + lockToken
                + " is unknown or expired: receive it again.");
    }
}
