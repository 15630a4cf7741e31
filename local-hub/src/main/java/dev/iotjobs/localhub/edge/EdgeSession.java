package dev.iotjobs.localhub.edge;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.c2d.C2dDelivery;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.telemetry.TelemetryMessage;
import dev.iotjobs.localhub.throttle.Operation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;

/**
 * One authenticated connection of an identity, as every transport sees it: what the device does is a call here,
 * what the hub sends goes to the transport's {@link EdgeLink}. Methods marked blocking commit to the store: call
 * them from a worker thread, never from an event loop.
 * <p>
 * Persistent sessions and late subscriptions: a connection that resumes a session which listened to methods or
 * desired properties gets them only once it has subscribed again on this connection, or once the resume grace has
 * passed without it doing so. Device SDKs subscribe to methods and desired properties when the application asks,
 * a few milliseconds after connecting (a method call sent before then is dropped by the SDK, which has no handler
 * yet); after a dropped connection they reconnect without subscribing again and rely on the hub's remembered
 * session. Cloud-to-device messages need no grace: the SDKs set their handler before connecting.
 */
public final class EdgeSession {
    private static final Logger LOG = LoggerFactory.getLogger(EdgeSession.class);
    private final DeviceEdge edge;
    private final IdentityState state;
    final EdgeLink link;
    private final boolean sessionPresent;
    private final String authMethod;
    /** Guarded by state. */
    private final Set<Feature> subscribedHere = EnumSet.noneOf(Feature.class);
    private volatile boolean graceOver;
    /** The resume grace and SAS expiry timers, cancelled when the connection closes. */
    private final List<ScheduledFuture<?>> timers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    /** The expiry of the SAS token this session runs on (epoch seconds; 0: none, X.509). */
    private volatile long tokenExpiry;
    private final AtomicInteger twinRequests = new AtomicInteger();
    /** The lock token of the cloud-to-device message this connection holds, or null; guarded by this. */
    private String c2dInFlight;

    EdgeSession(DeviceEdge edge, IdentityState state, EdgeLink link, boolean sessionPresent, String authMethod) {
        this.edge = edge;
        this.state = state;
        this.link = link;
        this.sessionPresent = sessionPresent;
        this.authMethod = authMethod;
    }

    public IdentityKey identity() {
        return state.identity;
    }

    /** True when the identity's persistent session was resumed (MQTT CONNACK session-present). */
    public boolean sessionPresent() {
        return sessionPresent;
    }

    /** The SAS token's expiry (epoch seconds), 0 for X.509: set by {@link DeviceEdge#open}. */
    long expiryEpochSeconds;

    /**
     * The transport has accepted the connection (MQTT: CONNACK written): from now on the hub sends the device what
     * its session listens to, and disconnects it when its SAS token expires.
     */
    public void start() {
        if (closed) {
            return; // the connection went before it was accepted
        }
        long graceMillis = edge.settings.resumeGrace().toMillis();
        if (graceMillis <= 0) {
            graceOver = true;
        } else {
            timers.add(edge.timers.schedule(() -> {
                graceOver = true;
                ready();
            }, graceMillis, TimeUnit.MILLISECONDS));
        }
        // IoT Hub disconnects a device when its SAS token expires; the SDK then reconnects with a new one.
        tokenExpiry = expiryEpochSeconds;
        scheduleExpiry(expiryEpochSeconds);
        edge.methodReadinessChanged(state);
        pumpC2d();
    }

    private void scheduleExpiry(long expiryEpochSeconds) {
        if (expiryEpochSeconds > 0) {
            long millisLeft = (expiryEpochSeconds - edge.clock.instant().getEpochSecond() + 1) * 1000;
            if (millisLeft < Long.MAX_VALUE / 2) {
                timers.add(edge.timers.schedule(() -> {
                    if (!closed && tokenExpiry == expiryEpochSeconds) {
                        LOG.info("SAS token of {} expired: disconnecting it", state.identity);
                        link.disconnect("SAS token expired");
                    }
                }, Math.max(1, millisLeft), TimeUnit.MILLISECONDS));
            }
        }
    }

    /**
     * The connection presented a newer SAS token for this identity (AMQP put-token renewal on the live connection,
     * checked by the caller): the session now expires with it instead.
     */
    public void tokenRenewed(long expiryEpochSeconds) {
        if (expiryEpochSeconds > tokenExpiry && tokenExpiry > 0) {
            tokenExpiry = expiryEpochSeconds;
            scheduleExpiry(expiryEpochSeconds);
        }
    }

    /** Whether this connection gets (now or after the resume grace) what a feature sends. */
    boolean listens(Feature f) {
        if (closed || state.current != this) {
            return false;
        }
        synchronized (state) {
            return subscribedHere.contains(f) || state.features.contains(f);
        }
    }

    private boolean deliverable(Feature f) {
        synchronized (state) {
            return subscribedHere.contains(f) || state.features.contains(f) && (graceOver || f == Feature.C2D);
        }
    }

    /** Runs {@code send} once this connection is ready for {@code f}; {@code dropped} if it closes first. */
    void whenReady(Feature f, Runnable send, Runnable dropped) {
        synchronized (state) {
            if (!deliverable(f)) {
                state.held.add(() -> {
                    if (closed) {
                        dropped.run();
                    } else {
                        whenReady(f, send, dropped);
                    }
                });
                return;
            }
        }
        send.run();
    }

    /** Retries what was held: called when the connection subscribes, when the grace passes and when it closes. */
    private void ready() {
        List<Runnable> retry;
        synchronized (state) {
            retry = new ArrayList<>(state.held);
            state.held.clear();
        }
        retry.forEach(Runnable::run);
        edge.methodReadinessChanged(state);
    }

    /**
     * The device subscribed to a feature on this connection (blocking: the session is committed first, so it
     * survives a hub restart once acknowledged).
     */
    public void subscribe(Feature f) {
        boolean changed;
        synchronized (state) {
            subscribedHere.add(f);
            changed = state.features.add(f);
        }
        if (changed) {
            edge.persist(state);
        }
        ready();
        if (f == Feature.C2D) {
            pumpC2d();
        }
    }

    /** The device unsubscribed from a feature (blocking). */
    public void unsubscribe(Feature f) {
        boolean changed;
        synchronized (state) {
            subscribedHere.remove(f);
            changed = state.features.remove(f);
        }
        if (changed) {
            edge.persist(state);
        }
    }

    /** The twin as the device sees it (blocking). */
    public JsonNode twin() {
        return edge.twinsOf(state.identity).deviceGet(state.identity.toString());
    }

    /** Applies a reported-properties patch and returns the new reported version (blocking). */
    public long patchReported(JsonNode patch, Long expectedVersion) {
        return edge.twinsOf(state.identity).patchReported(state.identity.toString(), patch, expectedVersion);
    }

    /**
     * Admits one more twin request of this connection, or throws 429 when too many are in progress (IoT Hub
     * throttles twin operations). Pair with {@link #twinRequestDone}.
     */
    public void beginTwinRequest() {
        if (twinRequests.incrementAndGet() > edge.settings.twinRequestsInFlight()) {
            twinRequests.decrementAndGet();
            throw ErrorCode.THROTTLING.exception("More than " + edge.settings.twinRequestsInFlight()
                    + " twin requests of this connection are in progress; retry later.");
        }
    }

    public void twinRequestDone() {
        twinRequests.decrementAndGet();
    }

    /**
     * Admits a twin read ({@code update} false) or reported-properties update of {@code bytes} under the tier's
     * twin throttles, which IoT Hub shares between devices and the service: the future completes when the
     * request may run (later when over the rate), or fails with 429001 when it would wait longer than the
     * backlog; the transport answers 429 then (MQTT {@code $iothub/twin/res/429/}, AMQP status 429), which the
     * device SDKs hand to the application as THROTTLED (retryable). Without a tier: completed, nothing counted.
     */
    public CompletableFuture<Void> admitTwin(boolean update, int bytes) {
        return edge.admit(update ? Operation.TWIN_UPDATES : Operation.TWIN_READS, ErrorCode.THROTTLING, bytes);
    }

    /**
     * A device-to-cloud message: counted, then handed to the telemetry sink. The transport acknowledges it to the
     * device when the future completes, and refuses it when it fails.
     * <p>
     * With a tier, the message first passes the "Device-to-cloud sends" throttle and the daily quota: over the
     * rate it is acknowledged later (traffic shaping); when it would wait longer than the backlog it is refused
     * with 429002 ThrottleBacklogLimitExceeded, and once the day's quota is used up with 403002. IoT Hub closes
     * an MQTT connection then (MQTT has no negative acknowledgement) and rejects the AMQP transfer
     * ({@code com.microsoft:device-container-throttled}, {@code amqp:resource-limit-exceeded}).
     */
    public CompletableFuture<Void> telemetry(byte[] body, Map<String, String> properties, String messageId,
                                            String correlationId, String contentType, String contentEncoding,
                                            Instant creationTime, String componentName) {
        if (edge.throttles.enabled()) {
            long bytes = body.length;
            for (Map.Entry<String, String> p : properties.entrySet()) {
                bytes += p.getKey().length() + p.getValue().length();
            }
            return edge.admit(Operation.DEVICE_TO_CLOUD_SENDS, ErrorCode.THROTTLE_BACKLOG_LIMIT_EXCEEDED, bytes)
                    .thenCompose(v -> accept(body, properties, messageId, correlationId, contentType, contentEncoding,
                            creationTime, componentName));
        }
        return accept(body, properties, messageId, correlationId, contentType, contentEncoding, creationTime,
                componentName);
    }

    private CompletableFuture<Void> accept(byte[] body, Map<String, String> properties, String messageId,
                                           String correlationId, String contentType, String contentEncoding,
                                           Instant creationTime, String componentName) {
        Device d = edge.registryOf(state.identity).find(state.identity.toString());
        String generationId = null;
        if (d != null) {
            d.runtime().telemetryReceived(edge.clock.instant());
            generationId = d.generationId();
        }
        try {
            return edge.telemetry.append(new TelemetryMessage(state.identity, body, properties, messageId, correlationId,
                    contentType, contentEncoding, creationTime, componentName, authMethod, generationId));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The device's answer to a method call; a late or unknown answer is dropped, as IoT Hub does. */
    public void answerMethod(String requestId, int status, JsonNode payload) {
        CompletableFuture<MethodResponse> pending = requestId == null ? null : state.pendingMethods.get(requestId);
        if (pending != null) {
            pending.complete(new MethodResponse(status, payload));
        }
    }

    /** Hands the device its next cloud-to-device message when it listens and holds none (one at a time). */
    void pumpC2d() {
        if (state.identity.isModule() || closed || !deliverable(Feature.C2D) || state.current != this) {
            return;
        }
        C2dDelivery delivery;
        Duration lock = link.c2dLock();
        synchronized (this) {
            if (c2dInFlight != null) {
                if (lock == null || edge.c2d.holds(state.identity.deviceId(), c2dInFlight)) {
                    return;
                }
                c2dInFlight = null; // its lock expired: the message is back in the queue
            }
            delivery = edge.c2d.receive(state.identity.deviceId(), lock);
            if (delivery == null) {
                return;
            }
            c2dInFlight = delivery.lockToken();
        }
        if (!link.c2dMessage(delivery)) {
            synchronized (this) {
                c2dInFlight = null;
            }
            edge.c2d.release(state.identity.deviceId(), delivery.lockToken());
        }
    }

    /** The device completed a cloud-to-device message (blocking; MQTT: its PUBACK). */
    public void completeC2d(String lockToken) {
        settled(lockToken);
        edge.c2d.complete(state.identity.deviceId(), lockToken);
        pumpC2d();
    }

    /** The device abandoned a cloud-to-device message (blocking; not possible over MQTT). */
    public void abandonC2d(String lockToken) {
        settled(lockToken);
        edge.c2d.abandon(state.identity.deviceId(), lockToken);
        pumpC2d();
    }

    /** The device rejected a cloud-to-device message (blocking; not possible over MQTT). */
    public void rejectC2d(String lockToken) {
        settled(lockToken);
        edge.c2d.reject(state.identity.deviceId(), lockToken);
        pumpC2d();
    }

    private synchronized void settled(String lockToken) {
        if (lockToken.equals(c2dInFlight)) {
            c2dInFlight = null;
        }
    }

    /** The transport's connection is gone (any reason). Idempotent. */
    public void closed() {
        if (closed) {
            return;
        }
        closed = true;
        timers.forEach(t -> t.cancel(false));
        String inFlight;
        synchronized (this) {
            inFlight = c2dInFlight;
            c2dInFlight = null;
        }
        if (inFlight != null) {
            edge.c2d.release(state.identity.deviceId(), inFlight);
        }
        boolean wasCurrent;
        synchronized (state) {
            wasCurrent = state.current == this;
            if (wasCurrent) {
                state.current = null;
            }
        }
        if (wasCurrent) {
            edge.connectionChanged(state.identity, false);
        }
        ready(); // held sends of this connection are dropped
    }
}
