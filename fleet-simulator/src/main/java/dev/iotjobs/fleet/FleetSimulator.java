package dev.iotjobs.fleet;

import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.TrustOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.MqttConnectionException;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubAckMessage;

import java.util.Collections;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Simulates many IoT Hub devices over MQTT 3.1.1/TLS without a thread per device: one Vert.x
 * {@link MqttClient} per device, all on the event loops of the given Vert.x instance (devices are spread
 * round-robin over its event loops and each device stays on its loop).
 * <p>
 * Each device behaves like the tutorial's SimDevice: it answers the direct method {@code lockDoor} with
 * status 200 and {@code {"Response":"lockDoor called successfully"}}, any other method with 404 and a
 * JSON body naming it, and it takes (and counts) every desired-property patch.
 * <p>
 * It depends on nothing of the local hub: it speaks the public device protocol, so it also loads a real IoT
 * Hub. Protocol (Microsoft's "Communicate with an IoT hub using the MQTT protocol"): client id = device id, username
 * {@code {host}/{deviceId}/?api-version=2020-09-30}, password = device SAS token, clean session 0, keep-alive
 * 230 s; subscriptions {@code $iothub/methods/POST/#}, {@code $iothub/twin/res/#} and
 * {@code $iothub/twin/PATCH/properties/desired/#}; method answers are QoS 1 PUBLISHes to
 * {@code $iothub/methods/res/{status}/?$rid={rid}}.
 */
public final class FleetSimulator implements SimulatedFleet {

    /**
     * @param deviceId the MQTT client id: a device id, or {@code deviceId/moduleId} for a module identity
     *                 ({@link #module}), which connects as IoT Hub's module clients do
     */
    public record DeviceCredentials(String deviceId, String primaryKey) {
        public DeviceCredentials {
            Objects.requireNonNull(deviceId, "deviceId");
            Objects.requireNonNull(primaryKey, "primaryKey");
        }

        /** A module's credentials (client id {@code deviceId/moduleId}, the module's own key). */
        public static DeviceCredentials module(String deviceId, String moduleId, String primaryKey) {
            return new DeviceCredentials(deviceId + "/" + moduleId, primaryKey);
        }

        /** The device's id (for a module, the device it belongs to). */
        String baseDeviceId() {
            int slash = deviceId.indexOf('/');
            return slash < 0 ? deviceId : deviceId.substring(0, slash);
        }

        /** The SAS resource path: {@code devices/{d}}, or {@code devices/{d}/modules/{m}} for a module. */
        String sasResourcePath() {
            int slash = deviceId.indexOf('/');
            return slash < 0 ? "devices/" + deviceId
                    : "devices/" + deviceId.substring(0, slash) + "/modules/" + deviceId.substring(slash + 1);
        }
    }

    /**
     * @param host               host name the devices dial, and the {@code HostName} used in usernames and
     *                           SAS resources (for the local hub {@code 127.0.0.1})
     * @param trustStore         PKCS#12 trust store holding the hub's CA (the hub's {@code truststore.p12})
     * @param connectConcurrency how many devices may be between "TCP connect" and "SUBACK" at once
     */
    public record Options(String host, int mqttPort, Path trustStore, String trustStorePassword,
                          int connectConcurrency) {
        public Options {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(trustStore, "trustStore");
            if (connectConcurrency < 1) {
                throw new IllegalArgumentException("connectConcurrency must be at least 1");
            }
        }
    }

    /**
     * Failure injection (off by default, see {@link #injectFaults}): shares of the fleet that answer every method with 500,
     * never answer a method, or never report a desired change back. Once faults are set (even all zero, see
     * {@link #HEALTHY}), the other devices behave as devices that apply what they get: they answer any method
     * with 200 and report each desired patch back as reported properties (e.g. the firmware version they now
     * run). Which devices misbehave is fixed by their ids, so a rerun picks the same ones.
     */
    public record Faults(double methodError, double methodSilent, double noReport) {
        /** No failures, and devices report desired changes back. */
        public static final Faults HEALTHY = new Faults(0, 0, 0);

        public Faults {
            if (methodError < 0 || methodSilent < 0 || noReport < 0 || methodError + methodSilent + noReport > 1) {
                throw new IllegalArgumentException("fault shares must be between 0 and 1 and add up to at most 1: "
                        + methodError + ", " + methodSilent + ", " + noReport);
            }
        }

        /** E.g. {@code methodError=0.1,methodSilent=0.05,noReport=0.2} (missing names are 0). */
        public static Faults parse(String text) {
            double[] v = new double[3];
            List<String> names = List.of("methodError", "methodSilent", "noReport");
            for (String part : text.split(",")) {
                String[] kv = part.trim().split("=", 2);
                int i = names.indexOf(kv[0].trim());
                if (kv.length != 2 || i < 0) {
                    throw new IllegalArgumentException("not a fault share: '" + part + "' (use " + names + "=<0..1>)");
                }
                v[i] = Double.parseDouble(kv[1].trim());
            }
            return new Faults(v[0], v[1], v[2]);
        }

        /** Where a device falls in [0, 1): fixed by its id, spread (ids differing in a digit land far apart). */
        static double position(String deviceId) {
            int h = deviceId.hashCode(); // mixed as MurmurHash3's finalizer does: neighbouring ids, distant positions
            h ^= h >>> 16;
            h *= 0x85ebca6b;
            h ^= h >>> 13;
            h *= 0xc2b2ae35;
            h ^= h >>> 16;
            return (h & 0x7fffffff) / (double) (1L << 31);
        }

        public boolean methodError(String deviceId) {
            return position(deviceId) < methodError;
        }

        public boolean methodSilent(String deviceId) {
            double p = position(deviceId);
            return p >= methodError && p < methodError + methodSilent;
        }

        public boolean noReport(String deviceId) {
            double p = position(deviceId);
            return p >= methodError + methodSilent && p < methodError + methodSilent + noReport;
        }
    }

    /** Timings of the connect phase, for benchmarks. */
    public record ConnectStats(int devices, Duration elapsed, int retries) {
        public double devicesPerSecond() {
            return elapsed.isZero() ? devices : devices * 1e9 / elapsed.toNanos();
        }
    }

    /**
     * A telemetry run ({@link #sendTelemetry}): every device sends {@code messagesPerDevice} device-to-cloud messages
     * over MQTT at QoS 1, at most {@code window} of them awaiting their PUBACK at once, at {@code perDeviceRate}
     * messages per second (0: as fast as the window allows).
     *
     * @param bodyBytes the body's size at least: a JSON object with the device's message number and the send time
     *                  ({@code {"n":12,"sentMicros":...}}), padded with spaces
     */
    public record TelemetryPlan(int messagesPerDevice, double perDeviceRate, int window, int bodyBytes) {
        public TelemetryPlan {
            if (messagesPerDevice < 0 || perDeviceRate < 0 || window < 1 || window > MAX_WINDOW || bodyBytes < 0) {
                throw new IllegalArgumentException("a telemetry plan needs messages >= 0, rate >= 0, window 1-" + MAX_WINDOW
                        + " and body bytes >= 0: " + messagesPerDevice + ", " + perDeviceRate + ", " + window + ", " + bodyBytes);
            }
        }
    }

    /** What a telemetry run did: messages acknowledged by the hub (PUBACK) and how long it took. */
    public record TelemetryStats(long messages, Duration elapsed) {
        public double messagesPerSecond() {
            return elapsed.isZero() ? messages : messages * 1e9 / elapsed.toNanos();
        }
    }

    /** The largest PUBACK window of a telemetry run (the MQTT client's in-flight limit). */
    public static final int MAX_WINDOW = 100;

    static final String API_VERSION = "2020-09-30";
    static final int KEEP_ALIVE_SECONDS = 230; // as the device SDK
    /** SAS tokens live a day: reconnecting is out of scope, and the hub disconnects at expiry. */
    static final long TOKEN_LIFETIME_SECONDS = 24 * 3600;
    /** Connect attempts per device before the whole connect fails (a loaded hub may drop a handshake). */
    static final int MAX_ATTEMPTS = 3;

    private final Vertx vertx;
    private final Options options;
    private final MqttClientOptions baseClientOptions;
    private final List<Context> contexts;
    private final Map<String, SimDevice> devices = new LinkedHashMap<>();
    private final AtomicInteger connected = new AtomicInteger();
    private final LongAdder totalMethodCalls = new LongAdder();
    private final LongAdder totalOtherMethodCalls = new LongAdder();
    private final LongAdder totalDesiredPatches = new LongAdder();
    private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger retries = new AtomicInteger();
    private volatile ConnectStats connectStats;
    /** Null: the plain simulator (lockDoor only, no reported properties); else failure injection. */
    private volatile Faults faults;
    private volatile boolean closed;
    private final CompletableFuture<Void> closing = new CompletableFuture<>();

    private FleetSimulator(Vertx vertx, Options options, List<DeviceCredentials> credentials) throws Exception {
        this.vertx = vertx;
        this.options = options;
        this.baseClientOptions = baseClientOptions(options, loadTrust(options.trustStore(), options.trustStorePassword()));
        this.contexts = eventLoopContexts(vertx);
        int i = 0;
        for (DeviceCredentials c : credentials) {
            if (devices.putIfAbsent(c.deviceId(), new SimDevice(c, contexts.get(i++ % contexts.size()))) != null) {
                throw new IllegalArgumentException("device " + c.deviceId() + " is listed twice");
            }
        }
    }

    /**
     * Connects every device (TLS + SAS) and subscribes it to methods, twin responses and desired
     * properties. The future completes once every device has its SUBACK, or fails with the first device
     * that could not connect after {@value #MAX_ATTEMPTS} attempts (the devices already connected are
     * then disconnected).
     */
    public static CompletableFuture<FleetSimulator> connectAsync(Vertx vertx, Options options,
                                                                 List<DeviceCredentials> devices) {
        FleetSimulator sim;
        try {
            sim = new FleetSimulator(vertx, options, devices);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
        return sim.connectAll().handle((stats, error) -> {
            if (error != null) {
                sim.closeAsync(); // may run on an event loop: must not block
                throw error instanceof RuntimeException r ? r : new IllegalStateException(error.getMessage(), error);
            }
            return sim;
        });
    }

    /** Blocking {@link #connectAsync}; waits at most {@code timeout} (then disconnects everything). */
    public static FleetSimulator connect(Vertx vertx, Options options, List<DeviceCredentials> devices,
                                         Duration timeout) throws Exception {
        CompletableFuture<FleetSimulator> f = connectAsync(vertx, options, devices);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.thenAccept(FleetSimulator::closeAsync);
            throw new TimeoutException("devices not all connected within " + timeout);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    /** Blocking connect with a generous timeout: 60 s plus 20 ms per device. */
    public static FleetSimulator connect(Vertx vertx, Options options, List<DeviceCredentials> devices) throws Exception {
        return connect(vertx, options, devices, Duration.ofSeconds(60).plusMillis(20L * devices.size()));
    }

    // ---------------------------------------------------------------- queries

    public int connectedCount() {
        return connected.get();
    }

    public int deviceCount() {
        return devices.size();
    }

    /** {@code lockDoor} calls answered by this device. */
    public long methodCalls(String deviceId) {
        return device(deviceId).methodCalls;
    }

    public long totalMethodCalls() {
        return totalMethodCalls.sum();
    }

    /** Calls of methods other than {@code lockDoor} (answered 404), over all devices. */
    public long totalUnknownMethodCalls() {
        return totalOtherMethodCalls.sum();
    }

    public long desiredPatches(String deviceId) {
        return device(deviceId).desiredPatches;
    }

    public long totalDesiredPatches() {
        return totalDesiredPatches.sum();
    }

    /** The last desired patch a device received (the JSON body, with {@code $version}), or null. */
    public String lastDesiredPatch(String deviceId) {
        return device(deviceId).lastDesired;
    }

    /**
     * Per method call: nanoseconds from the request's arrival at the device to the PUBACK of its
     * response (so it includes the hub's handling of the answer). A snapshot, in completion order.
     */
    public List<Long> methodLatenciesNanos() {
        return new ArrayList<>(latencies);
    }

    /** How long connecting took, or null while it is under way. */
    public ConnectStats connectStats() {
        return connectStats;
    }

    private SimDevice device(String deviceId) {
        SimDevice d = devices.get(deviceId);
        if (d == null) {
            throw new IllegalArgumentException("unknown device " + deviceId);
        }
        return d;
    }

    // ---------------------------------------------------------------- connect

    /** Runs {@code connectConcurrency} lanes; each lane connects one device after another. */
    private CompletableFuture<ConnectStats> connectAll() {
        List<SimDevice> all = new ArrayList<>(devices.values());
        CompletableFuture<ConnectStats> done = new CompletableFuture<>();
        long start = System.nanoTime();
        if (all.isEmpty()) {
            connectStats = new ConnectStats(0, Duration.ZERO, 0);
            done.complete(connectStats);
            return done;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger remaining = new AtomicInteger(all.size());
        Runnable[] lane = new Runnable[1];
        lane[0] = () -> {
            int i = next.getAndIncrement();
            if (i >= all.size() || done.isDone()) {
                return;
            }
            SimDevice d = all.get(i);
            d.context.runOnContext(v -> connectDevice(d, 1).onComplete(ar -> {
                if (ar.failed()) {
                    done.completeExceptionally(new IllegalStateException("device " + d.credentials.deviceId()
                            + " could not connect: " + ar.cause(), ar.cause()));
                    return;
                }
                if (remaining.decrementAndGet() == 0) {
                    connectStats = new ConnectStats(all.size(), Duration.ofNanos(System.nanoTime() - start), retries.get());
                    done.complete(connectStats);
                } else {
                    lane[0].run();
                }
            }));
        };
        for (int l = 0; l < Math.min(options.connectConcurrency(), all.size()); l++) {
            lane[0].run();
        }
        return done;
    }

    /** Connects and subscribes one device; runs on the device's context. */
    private Future<Void> connectDevice(SimDevice d, int attempt) {
        if (closed) {
            return Future.failedFuture("simulator closed");
        }
        String id = d.credentials.deviceId();
        long expiry = System.currentTimeMillis() / 1000 + TOKEN_LIFETIME_SECONDS;
        MqttClientOptions o = new MqttClientOptions(baseClientOptions)
                .setClientId(id)
                .setUsername(options.host() + "/" + id + "/?api-version=" + API_VERSION)
                .setPassword(SasTokens.create(options.host() + "/" + d.credentials.sasResourcePath(),
                        d.credentials.primaryKey(), null, expiry));
        MqttClient client = MqttClient.create(vertx, o);
        d.client = client;
        Promise<Void> subscribed = Promise.promise();
        client.publishHandler(msg -> onPublish(d, msg));
        client.publishCompletionHandler(packetId -> onPubAck(d, packetId));
        client.subscribeCompletionHandler(ack -> onSubAck(d, ack, subscribed));
        client.closeHandler(v -> {
            if (d.connected) {
                d.connected = false;
                connected.decrementAndGet();
            }
            TelemetryRun run = telemetryRun;
            if (run != null && !closed && d.telemetryAcked < run.plan.messagesPerDevice()) {
                run.fail("device " + id + " was disconnected after " + d.telemetryAcked + " acknowledged messages");
            }
        });
        client.exceptionHandler(e -> { /* surfaced through the connect future or closeHandler */ });
        Map<String, Integer> filters = new LinkedHashMap<>();
        filters.put(Topics.METHODS_FILTER, 1);
        filters.put(Topics.TWIN_RESPONSE_FILTER, 1);
        filters.put(Topics.DESIRED_FILTER, 1);
        Future<Void> attemptResult = client.connect(options.mqttPort(), options.host())
                .compose(connack -> {
                    d.connected = true;
                    connected.incrementAndGet();
                    return client.subscribe(filters);
                })
                .compose(packetId -> subscribed.future())
                .compose(v -> {
                    if (closed) { // closed while this device was connecting: do not leak its connection
                        client.disconnect();
                        return Future.failedFuture("simulator closed");
                    }
                    return Future.succeededFuture();
                });
        return attemptResult.recover(e -> {
            if (client.isConnected()) {
                client.disconnect();
            }
            return ConnectRetry.next(vertx, e, attempt, closed, MqttConnectionException.class, retries,
                    next -> connectDevice(d, next));
        });
    }

    private static void onSubAck(SimDevice d, MqttSubAckMessage ack, Promise<Void> subscribed) {
        for (Integer qos : ack.grantedQoSLevels()) {
            if (qos == null || qos == 0x80) {
                subscribed.tryFail("hub refused a subscription of " + d.credentials.deviceId() + ": " + ack.grantedQoSLevels());
                return;
            }
        }
        subscribed.tryComplete();
    }

    // ---------------------------------------------------------------- device behaviour (on the device's event loop)

    private void onPublish(SimDevice d, MqttPublishMessage msg) {
        String topic = msg.topicName();
        if (topic.startsWith(Topics.METHOD_REQUEST_PREFIX)) {
            onMethodRequest(d, topic);
        } else if (topic.startsWith(Topics.DESIRED_PREFIX)) {
            d.desiredPatches++; // single writer: the device's event loop
            d.lastDesired = msg.payload().toString(StandardCharsets.UTF_8);
            totalDesiredPatches.increment();
            Faults f = faults;
            if (f != null && !f.noReport(d.credentials.deviceId())) {
                reportBack(d, msg.payload());
            }
        }
        // $iothub/twin/res/..: this simulator sends no twin requests, nothing to correlate.
        // QoS 1 deliveries are acknowledged by the client (auto-ack).
    }

    private void onMethodRequest(SimDevice d, String topic) {
        long received = System.nanoTime();
        String name = Topics.methodName(topic);
        String rid = Topics.param(topic, "$rid");
        if (rid == null) {
            return; // nothing to answer to
        }
        MethodAnswers.Answer answer = MethodAnswers.answer(faults, d.credentials.deviceId(), name);
        if (answer == null) {
            return; // a silent device (failure injection)
        }
        int status = answer.status();
        MqttClient client = d.client;
        client.publish(Topics.methodResponse(status, rid), Buffer.buffer(answer.body()), MqttQoS.AT_LEAST_ONCE, false, false)
                .onSuccess(packetId -> {
                    if (status == 200) {
                        d.methodCalls++;
                        totalMethodCalls.increment();
                    } else {
                        totalOtherMethodCalls.increment();
                    }
                    d.pendingAcks().put(packetId, received);
                });
    }

    /** A device that applied a desired patch reports it back (without its $version), as reported properties. */
    private static void reportBack(SimDevice d, Buffer desiredPatch) {
        JsonObject patch = new JsonObject(desiredPatch);
        patch.remove("$version");
        d.client.publish(Topics.reportedPatch(++d.reportRequests), patch.toBuffer(), MqttQoS.AT_MOST_ONCE, false, false);
    }

    /** Turns failure injection on (see {@link Faults}); call before the devices are used. */
    public FleetSimulator injectFaults(Faults value) {
        faults = Objects.requireNonNull(value, "faults");
        return this;
    }

    private void onPubAck(SimDevice d, int packetId) {
        Map<Integer, Long> pending = d.pendingAcks;
        Long received = pending == null ? null : pending.remove(packetId);
        if (received != null) {
            latencies.add(System.nanoTime() - received);
        } else if (d.telemetryInFlight > 0) {
            d.telemetryInFlight--;
            d.telemetryAcked++;
            TelemetryRun run = telemetryRun;
            if (run != null) {
                if (d.telemetryAcked == run.plan.messagesPerDevice()) {
                    run.deviceDone();
                } else {
                    pump(d, run);
                }
            }
        }
    }

    // ---------------------------------------------------------------- telemetry (on the devices' event loops)

    private volatile TelemetryRun telemetryRun;

    /** One telemetry run's shared state: the plan, when it started, the devices still sending. */
    private final class TelemetryRun {
        final TelemetryPlan plan;
        final long startNanos = System.nanoTime();
        final AtomicInteger remaining;
        final CompletableFuture<TelemetryStats> done = new CompletableFuture<>();

        TelemetryRun(TelemetryPlan plan, int devices) {
            this.plan = plan;
            this.remaining = new AtomicInteger(devices);
        }

        void deviceDone() {
            if (remaining.decrementAndGet() == 0) {
                done.complete(new TelemetryStats((long) plan.messagesPerDevice() * devices.size(),
                        Duration.ofNanos(System.nanoTime() - startNanos)));
            }
        }

        void fail(String why) {
            done.completeExceptionally(new IllegalStateException(why));
        }
    }

    /**
     * Every device sends {@code plan.messagesPerDevice()} telemetry messages to {@code devices/{id}/messages/events/}
     * (with the application property {@code fleet=1}), QoS 1, keeping at most {@code plan.window()} unacknowledged.
     * Completes when the hub has acknowledged every message, or fails when a device's connection closes first
     * (the simulator does not reconnect). One run at a time.
     */
    public synchronized CompletableFuture<TelemetryStats> sendTelemetry(TelemetryPlan plan) {
        if (telemetryRun != null && !telemetryRun.done.isDone()) {
            throw new IllegalStateException("a telemetry run is under way");
        }
        TelemetryRun run = new TelemetryRun(plan, devices.size());
        telemetryRun = run;
        if (devices.isEmpty() || plan.messagesPerDevice() == 0) {
            run.done.complete(new TelemetryStats(0, Duration.ZERO));
            return run.done;
        }
        for (SimDevice d : devices.values()) {
            d.context.runOnContext(v -> {
                d.telemetrySent = 0;
                d.telemetryAcked = 0;
                d.telemetryInFlight = 0;
                pump(d, run);
            });
        }
        return run.done;
    }

    /** Sends what the window and the rate allow now; when the rate holds it back, comes back when it allows more. */
    private void pump(SimDevice d, TelemetryRun run) {
        TelemetryPlan plan = run.plan;
        MqttClient client = d.client;
        if (client == null || !client.isConnected()) {
            run.fail("device " + d.credentials.deviceId() + " is not connected: its telemetry cannot be sent");
            return;
        }
        while (d.telemetrySent < plan.messagesPerDevice() && d.telemetryInFlight < plan.window()) {
            long elapsed = System.nanoTime() - run.startNanos;
            if (plan.perDeviceRate() > 0 && d.telemetrySent >= 1 + (long) (elapsed / 1e9 * plan.perDeviceRate())) {
                if (!d.telemetryTimer) {
                    d.telemetryTimer = true;
                    long due = (long) ((d.telemetrySent / plan.perDeviceRate()) * 1e9) - elapsed;
                    vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(due)), t -> {
                        d.telemetryTimer = false;
                        pump(d, run);
                    });
                }
                return;
            }
            d.telemetryInFlight++;
            d.telemetrySent++;
            client.publish(d.telemetryTopic(), telemetryBody(d.telemetrySent - 1, plan.bodyBytes()),
                    MqttQoS.AT_LEAST_ONCE, false, false).onFailure(e -> run.fail("device " + d.credentials.deviceId()
                    + " could not send telemetry: " + e.getMessage()));
        }
    }

    /** Wall-clock microseconds since the epoch (the send time a reader in another process compares with its own clock). */
    public static long currentMicros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
    }

    private static Buffer telemetryBody(long n, int bytes) {
        StringBuilder b = new StringBuilder(Math.max(bytes, 48)).append("{\"n\":").append(n)
                .append(",\"sentMicros\":").append(currentMicros()).append('}');
        while (b.length() < bytes) {
            b.append(' ');
        }
        return Buffer.buffer(b.toString());
    }

    // ---------------------------------------------------------------- close

    /**
     * Disconnects every device. Waits up to 30 s for the DISCONNECTs to be written, except on a Vert.x
     * thread, where it must not block (use {@link #closeAsync()} to know when it is done).
     */
    @Override
    public void close() {
        CompletableFuture<Void> done = closeAsync();
        if (Context.isOnVertxThread()) {
            return;
        }
        try {
            done.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort: the hub notices closed sockets anyway
        }
    }

    /** Disconnects every device; completes when every client has sent DISCONNECT (or was not connected). */
    public synchronized CompletableFuture<Void> closeAsync() {
        if (closed) {
            return closing;
        }
        closed = true;
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (SimDevice d : devices.values()) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            pending.add(f);
            d.context.runOnContext(v -> {
                MqttClient c = d.client;
                if (c == null || !c.isConnected()) {
                    f.complete(null);
                } else {
                    c.disconnect().onComplete(ar -> f.complete(null));
                }
            });
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> closing.complete(null));
        return closing;
    }

    // ---------------------------------------------------------------- setup

    static TrustManagerFactory loadTrust(Path trustStore, String password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(trustStore)) {
            ks.load(in, password == null ? null : password.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        return tmf;
    }

    /**
     * One options object for all devices. The trust store is read and parsed once: every MqttClient has
     * its own NetClient (and SSL context), and parsing a PKCS#12 file per device would dominate connecting.
     */
    private static MqttClientOptions baseClientOptions(Options options, TrustManagerFactory trust) {
        MqttClientOptions o = new MqttClientOptions();
        o.setSsl(true);
        o.setSslEngineOptions(OpenSSLEngineOptions.isAvailable() ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions());
        o.setTrustOptions(TrustOptions.wrap(trust));
        // The hub's certificate has SAN IP:127.0.0.1; JSSE's HTTPS identification checks IP SANs for IP hosts.
        o.setHostnameVerificationAlgorithm("HTTPS");
        o.setKeepAliveInterval(KEEP_ALIVE_SECONDS);
        o.setCleanSession(false); // as the device SDK; IoT Hub sessions are durable
        o.setAutoKeepAlive(true);
        o.setMaxMessageSize(256 * 1024);
        o.setConnectTimeout(60_000);
        o.setSslHandshakeTimeout(60);
        o.setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
        o.setAckTimeout(-1);
        o.setMaxInflightQueue(MAX_WINDOW); // a telemetry run's PUBACK window (method answers need 1)
        o.setReconnectAttempts(0);
        return o;
    }

    /**
     * Event-loop contexts to spread the devices over. Vert.x hands each instance of a deployed verticle the
     * next event loop in turn, so the contexts of {@code 2 x cores} instances (Vert.x's default loop count, and
     * a multiple of any smaller one) cover every loop evenly, through the public API only.
     */
    static List<Context> eventLoopContexts(Vertx vertx) throws Exception {
        List<Context> result = Collections.synchronizedList(new ArrayList<>());
        int instances = 2 * Runtime.getRuntime().availableProcessors();
        vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                result.add(context);
                return Future.succeededFuture();
            }
        }, new DeploymentOptions().setInstances(instances)).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        if (result.isEmpty()) {
            result.add(vertx.getOrCreateContext());
        }
        return new ArrayList<>(result);
    }

    /** Per-device state. Counters are written only on the device's event loop and read from anywhere. */
    private static final class SimDevice {
        final DeviceCredentials credentials;
        final Context context;
        volatile MqttClient client;
        volatile boolean connected;
        volatile long methodCalls;
        volatile long desiredPatches;
        volatile String lastDesired;
        /** Request id of this device's reported patches (event loop only). */
        int reportRequests;
        /** Telemetry of the current run (event loop only): sent, acknowledged, awaiting PUBACK; a rate timer set. */
        long telemetrySent;
        volatile long telemetryAcked;
        int telemetryInFlight;
        boolean telemetryTimer;
        private String telemetryTopic;
        /** packet id of an unacknowledged method response -> nanoTime the request arrived (event loop only). */
        Map<Integer, Long> pendingAcks;

        SimDevice(DeviceCredentials credentials, Context context) {
            this.credentials = credentials;
            this.context = context;
        }

        /** {@code devices/{d}/messages/events/} (a module: {@code devices/{d}/modules/{m}/messages/events/}) with a property bag. */
        String telemetryTopic() {
            if (telemetryTopic == null) {
                String id = credentials.deviceId();
                int slash = id.indexOf('/');
                telemetryTopic = (slash < 0 ? "devices/" + id : "devices/" + id.substring(0, slash) + "/modules/"
                        + id.substring(slash + 1)) + "/messages/events/fleet=1";
            }
            return telemetryTopic;
        }

        Map<Integer, Long> pendingAcks() {
            if (pendingAcks == null) {
                pendingAcks = new HashMap<>(4);
            }
            return pendingAcks;
        }
    }
}
