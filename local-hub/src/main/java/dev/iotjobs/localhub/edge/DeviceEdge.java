package dev.iotjobs.localhub.edge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.auth.ModuleAuthenticator;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DesiredPropertiesListener;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.DeviceConnections;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.model.IdentityKey;
import dev.iotjobs.localhub.session.SessionStore;
import dev.iotjobs.localhub.telemetry.TelemetrySink;
import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.throttle.Operation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The protocol-neutral device side of the hub. A transport (MQTT today, AMQP next) authenticates a connection
 * with {@link #open}, gets an {@link EdgeSession} for the identity (device or module, resolved once) and from then
 * on calls the session for everything the device does, while the edge calls the transport's {@link EdgeLink} for
 * everything the hub sends. The edge is the only writer of a device's connection state, keeps the identities'
 * persistent sessions (what they listen to), and is the core's outbound port to devices: method calls
 * ({@link DeviceConnections}), desired-property notifications ({@link DesiredPropertiesListener}) and
 * cloud-to-device delivery.
 */
public final class DeviceEdge implements DeviceConnections, DesiredPropertiesListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceEdge.class);

    /**
     * @param resumeGrace        how long a connection resuming a persistent session has to subscribe again before
     *                           method calls and desired patches go out on the remembered subscriptions
     * @param twinRequestsInFlight twin requests one connection may have in progress (more: 429)
     */
    public record Settings(Duration resumeGrace, int twinRequestsInFlight) {
    }

    final DeviceAuthenticator deviceAuth;
    final ModuleAuthenticator moduleAuth;
    final DeviceRegistry devices;
    final DeviceRegistry modules;
    final TwinService deviceTwins;
    final TwinService moduleTwins;
    final C2dQueues c2d;
    final TelemetrySink telemetry;
    final Clock clock;
    final Settings settings;
    private final SessionStore store;
    final ScheduledExecutorService timers;
    /** The tier's throttles ({@link HubThrottles#none()} without a tier: then only {@code enabled()} is asked). */
    final HubThrottles throttles;
    /** What an admission returns when the operation may run now. */
    static final CompletableFuture<Void> ADMITTED = CompletableFuture.completedFuture(null);
    private final Map<String, IdentityState> states = new ConcurrentHashMap<>();
    private final Map<String, List<CompletableFuture<Void>>> readyWaiters = new ConcurrentHashMap<>();

    public DeviceEdge(DeviceAuthenticator deviceAuth, ModuleAuthenticator moduleAuth, DeviceRegistry devices,
                      DeviceRegistry modules, TwinService deviceTwins, TwinService moduleTwins, C2dQueues c2d,
                      TelemetrySink telemetry, SessionStore store, Clock clock, Settings settings) {
        this(deviceAuth, moduleAuth, devices, modules, deviceTwins, moduleTwins, c2d, telemetry, store, clock, settings,
                HubThrottles.none());
    }

    /** @param throttles the tier's device-side quotas and throttles, or {@link HubThrottles#none()} */
    public DeviceEdge(DeviceAuthenticator deviceAuth, ModuleAuthenticator moduleAuth, DeviceRegistry devices,
                      DeviceRegistry modules, TwinService deviceTwins, TwinService moduleTwins, C2dQueues c2d,
                      TelemetrySink telemetry, SessionStore store, Clock clock, Settings settings,
                      HubThrottles throttles) {
        this.throttles = throttles;
        this.deviceAuth = deviceAuth;
        this.moduleAuth = moduleAuth;
        this.devices = devices;
        this.modules = modules;
        this.deviceTwins = deviceTwins;
        this.moduleTwins = moduleTwins;
        this.c2d = c2d;
        this.telemetry = telemetry;
        this.store = store;
        this.clock = clock;
        this.settings = settings;
        ScheduledThreadPoolExecutor timerPool = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "local-hub-edge-timers");
            t.setDaemon(true);
            return t;
        });
        timerPool.setRemoveOnCancelPolicy(true); // a closed connection's timers go at once, not when they were due
        this.timers = timerPool;
        store.loadAll((key, stored) -> {
            IdentityState s = state(parseKey(key));
            synchronized (s) {
                for (String f : stored) {
                    Feature feature = featureOf(f);
                    if (feature != null) {
                        s.features.add(feature);
                    }
                }
            }
        });
        devices.onRemovedOrDisabled(this::drop);
        modules.onRemovedOrDisabled(this::drop);
        c2d.onAvailable(deviceId -> {
            IdentityState s = states.get(deviceId);
            EdgeSession current = s == null ? null : s.current;
            if (current != null) {
                current.pumpC2d();
            }
        });
    }

    /** Stored names: the feature's, or a topic filter stored by earlier versions of the hub. */
    private static Feature featureOf(String stored) {
        for (Feature f : Feature.values()) {
            if (f.name().equals(stored)) {
                return f;
            }
        }
        if (stored.startsWith("$iothub/methods/POST")) {
            return Feature.METHODS;
        }
        if (stored.startsWith("$iothub/twin/PATCH/properties/desired")) {
            return Feature.DESIRED;
        }
        if (stored.contains("/messages/devicebound")) {
            return Feature.C2D;
        }
        return null;
    }

    private static IdentityKey parseKey(String key) {
        int slash = key.indexOf('/');
        return slash < 0 ? IdentityKey.device(key) : IdentityKey.module(key.substring(0, slash), key.substring(slash + 1));
    }

    IdentityState state(IdentityKey identity) {
        return states.computeIfAbsent(identity.toString(), k -> new IdentityState(identity));
    }

    /**
     * Authenticates a connection and makes it the identity's current one (a previous connection is told to
     * disconnect: IoT Hub keeps one connection per identity). Nothing is sent to the device until the transport
     * has told it that it is connected and calls {@link EdgeSession#start()}.
     *
     * @param cleanSession true to forget what the identity's session listened to (MQTT clean session 1)
     * @throws EdgeRefusedException when the credentials are refused (unknown, disabled, wrong key or certificate)
     */
    public EdgeSession open(EdgeCredentials credentials, EdgeLink link, boolean cleanSession) throws EdgeRefusedException {
        IdentityKey identity = credentials.identity();
        DeviceAuthenticator.Result auth = identity.isModule()
                ? moduleAuth.authenticate(identity.toString(), credentials.sasToken(), credentials.certificateChain())
                : deviceAuth.authenticate(identity.deviceId(), credentials.sasToken(), credentials.certificateChain());
        if (!auth.accepted()) {
            throw new EdgeRefusedException(auth.reason());
        }
        IdentityState state = state(identity);
        boolean sessionPresent;
        synchronized (state) {
            if (cleanSession && !state.features.isEmpty()) {
                state.features.clear();
                store.delete(state.key);
            }
            sessionPresent = !state.features.isEmpty();
        }
        // How the connection authenticated, as IoT Hub stamps it on telemetry (iothub-connection-auth-method).
        Device d = registryOf(identity).find(identity.toString());
        String authMethod = credentials.certificateChain() != null && auth.expiryEpochSeconds() == 0 && d != null
                ? d.authType() : "sas";
        EdgeSession session = new EdgeSession(this, state, link, sessionPresent, authMethod);
        EdgeSession previous;
        synchronized (state) {
            previous = state.current;
            state.current = session;
        }
        if (previous != null) {
            LOG.info("{} connected again: closing its previous connection", identity);
            previous.link.disconnect("a newer connection of the same identity took over");
        }
        connectionChanged(identity, true);
        session.expiryEpochSeconds = auth.expiryEpochSeconds();
        return session;
    }

    /**
     * Admits a new device connection under the tier's "New device connections" throttle, before it authenticates:
     * the future completes when the connection may proceed (at once, or later when a burst is over the tier's
     * rate: traffic shaping), or fails with 429001 when it would wait longer than the backlog. The transport
     * refuses it then (MQTT: CONNACK 3, server unavailable; AMQP: the connection closed as throttled, or on a
     * connection multiplexing other devices the identity's links detached so); the device SDKs retry both with a
     * back-off. Without a tier: completed, nothing counted.
     */
    public CompletableFuture<Void> admitConnection() {
        return admit(Operation.DEVICE_CONNECTIONS, ErrorCode.THROTTLING, -1);
    }

    /**
     * Admits a cloud-to-device message of {@code bytes} that the service sends, under the tier's "Cloud-to-device
     * sends" throttle (a minute's worth at once, then shaped) and the daily quota: fails with 429001 beyond the
     * backlog (the service endpoint rejects the transfer as throttled) or 403002 once the quota is used up.
     * Without a tier: completed, nothing counted.
     */
    public CompletableFuture<Void> admitCloudToDeviceSend(long bytes) {
        return admit(Operation.CLOUD_TO_DEVICE_SENDS, ErrorCode.THROTTLING, bytes);
    }

    /**
     * Admits one operation of a class: now, after a delay (shaping), or refused with {@code refusal}; metered
     * operations ({@code meteredBytes >= 0}) are also charged to the daily quota (403002 once used up).
     */
    CompletableFuture<Void> admit(Operation op, ErrorCode refusal, long meteredBytes) {
        if (!throttles.enabled()) {
            return ADMITTED;
        }
        long delay;
        try {
            delay = throttles.admit(op, 1, refusal);
            if (meteredBytes >= 0) {
                throttles.charge(throttles.meteredMessages(meteredBytes));
            }
        } catch (HubException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (delay == 0) {
            return ADMITTED;
        }
        CompletableFuture<Void> admitted = new CompletableFuture<>();
        timers.schedule(() -> admitted.complete(null), delay, TimeUnit.MILLISECONDS);
        return admitted;
    }

    /** Commits what an identity's session listens to (blocking). */
    void persist(IdentityState s) {
        store.save(s.key, s.featuresCopy().stream().map(Enum::name).toList());
    }

    /** The only writer of connection state: connect and disconnect, whatever the protocol. */
    void connectionChanged(IdentityKey identity, boolean connected) {
        Device d = registryOf(identity).find(identity.toString());
        if (d != null) {
            d.runtime().connectionChanged(connected, clock.instant());
        }
    }

    DeviceRegistry registryOf(IdentityKey identity) {
        return identity.isModule() ? modules : devices;
    }

    TwinService twinsOf(IdentityKey identity) {
        return identity.isModule() ? moduleTwins : deviceTwins;
    }

    /** Forgets an identity (deleted or disabled): its connection is closed, its session and calls dropped. */
    private void drop(String key) {
        IdentityState s = states.remove(key);
        store.delete(key);
        if (s != null) {
            EdgeSession current = s.current;
            if (current != null) {
                current.link.disconnect("the identity was deleted or disabled");
            }
            s.pendingMethods.values().forEach(f -> f.cancel(false));
        }
    }

    /** Identities connected right now, any protocol. */
    public int connectedCount() {
        return (int) states.values().stream().filter(s -> s.current != null).count();
    }

    /** Wakes callers waiting for an identity to take method calls. */
    void methodReadinessChanged(IdentityState s) {
        if (!isMethodReady(s.key)) {
            return;
        }
        List<CompletableFuture<Void>> waiters = readyWaiters.remove(s.key);
        if (waiters != null) {
            waiters.forEach(w -> w.complete(null));
        }
    }

    /**
     * True when the device is connected and listens to methods: it subscribed on this connection, or its
     * persistent session does (then a call waits, at most the resume grace, for the device to subscribe again).
     */
    @Override
    public boolean isMethodReady(String deviceId) {
        IdentityState s = states.get(deviceId);
        EdgeSession current = s == null ? null : s.current;
        return current != null && current.listens(Feature.METHODS);
    }

    @Override
    public CompletableFuture<Void> awaitMethodReady(String deviceId, Duration timeout) {
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        readyWaiters.computeIfAbsent(deviceId, k -> new CopyOnWriteArrayList<>()).add(waiter);
        if (isMethodReady(deviceId)) {
            waiter.complete(null);
        }
        waiter.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            List<CompletableFuture<Void>> list = readyWaiters.get(deviceId);
            if (list != null) {
                list.remove(waiter);
            }
        });
        return waiter;
    }

    @Override
    public CompletableFuture<MethodResponse> sendMethodRequest(String deviceId, String methodName, String payloadJson) {
        IdentityState s = states.get(deviceId);
        EdgeSession current = s == null ? null : s.current;
        CompletableFuture<MethodResponse> answer = new CompletableFuture<>();
        if (current == null || !current.listens(Feature.METHODS)) {
            answer.cancel(false);
            return answer;
        }
        String rid = s.newRequestId();
        s.pendingMethods.put(rid, answer);
        answer.whenComplete((r, e) -> s.pendingMethods.remove(rid));
        byte[] payload = payloadJson.getBytes(StandardCharsets.UTF_8);
        current.whenReady(Feature.METHODS, () -> {
            if (!answer.isDone() && !current.link.methodRequest(rid, methodName, payload)) {
                answer.cancel(false);
            }
        }, () -> answer.cancel(false));
        return answer;
    }

    @Override
    public void desiredChanged(String deviceId, Supplier<ObjectNode> patchWithVersion) {
        IdentityState s = states.get(deviceId);
        EdgeSession current = s == null ? null : s.current;
        if (current != null && current.listens(Feature.DESIRED)) {
            ObjectNode patch = patchWithVersion.get();
            long version = patch.get("$version").asLong();
            byte[] bytes = Json.bytes(patch);
            current.whenReady(Feature.DESIRED, () -> current.link.desiredPatch(version, bytes), () -> { });
        }
    }

    @Override
    public void close() {
        timers.shutdownNow();
    }
}
