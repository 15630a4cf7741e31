package dev.iotjobs.fleet;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.proton.ProtonClient;
import io.vertx.proton.ProtonClientOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonLink;
import io.vertx.proton.ProtonLinkOptions;
import io.vertx.proton.ProtonQoS;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonSession;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.amqp.messaging.MessageAnnotations;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.apache.qpid.proton.message.Message;

import javax.net.ssl.TrustManagerFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Simulates many IoT Hub devices over AMQP 1.0 over TLS (the hub's port 5671), as the Java device SDK's
 * {@code DeviceClient} with {@code IotHubClientProtocol.AMQPS} talks to IoT Hub, without a thread per device: one
 * vertx-proton connection per device, all on the event loops of the given Vert.x instance (devices are spread
 * round-robin over its event loops and each device stays on its loop).
 * <p>
 * Each device behaves like the tutorial's SimDevice for direct methods (as {@link FleetSimulator} does over MQTT):
 * {@code lockDoor} is answered with 200, anything else with 404; failure injection ({@link FleetSimulator.Faults})
 * applies to methods. It does not open the twin links, so it receives no desired-property patches.
 * <p>
 * On the wire, per device, what the SDK does (Microsoft's "Communicate with your IoT hub by using the AMQP protocol"
 * and the SDK's AMQPS transport): TLS, SASL {@code ANONYMOUS}, an Open naming the hub's host, 4 KB frames and a
 * 230 s idle timeout; a session for claims-based security with the links {@code cbs-sender} (target {@code $cbs})
 * and {@code cbs-receiver} (source {@code $cbs}), and a put-token of the device's SAS token (message id a uuid,
 * {@code to=$cbs}, {@code reply-to=cbs}, {@code operation=put-token}, {@code type=servicebus.windows.net:sastoken},
 * {@code name={host}/devices/{deviceId}}); once answered 200, a session of the device with the telemetry pair (sender
 * to {@code /devices/{id}/messages/events}, receiver from {@code /devices/{id}/messages/devicebound}) and then the
 * direct-method pair, a sender and a receiver on {@code /devices/{id}/methods/devicebound} (what
 * {@code subscribeToMethods} opens). Every link carries the attach properties {@code com.microsoft:api-version} and
 * {@code com.microsoft:client-version} (the fleet's own product string), and the device links
 * {@code com.microsoft:channel-correlation-id}: the identity for the telemetry pair, {@code methods:{uuid}} for the
 * method pair, whose links are named {@code sender_link_devicemethods-{id}-{uuid}} and
 * {@code receiver_link_devicemethods-{id}-{uuid}}. A method request is answered on the method sender, unsettled,
 * with a new message id, the request's correlation id as a uuid, the application properties {@code IoThub-status}
 * (an int) and {@code iothub-connection-device-id}, empty message annotations and the JSON body as a Data section;
 * the request itself is accepted. Receivers grant 1,024 credits, as the SDK. (vertx-proton's receivers announce
 * sender-settle-mode {@code unsettled} where the SDK leaves {@code mixed}: the hub sends unsettled either way.)
 * If the hub detaches any link or closes the connection, the device is gone (the SDK would reconnect; this
 * simulator does not).
 */
public final class AmqpFleet implements SimulatedFleet {

    /**
     * @param host               host name the devices dial, and the host name of their SAS tokens and put-token
     *                           audiences (for the local hub {@code 127.0.0.1})
     * @param amqpPort           the hub's AMQP over TLS port (IoT Hub: 5671)
     * @param trustStore         PKCS#12 trust store holding the hub's CA (the hub's {@code truststore.p12})
     * @param connectConcurrency how many devices may be between "TCP connect" and "method links attached" at once
     */
    public record Options(String host, int amqpPort, Path trustStore, String trustStorePassword, int connectConcurrency) {
        public Options {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(trustStore, "trustStore");
            if (connectConcurrency < 1) {
                throw new IllegalArgumentException("connectConcurrency must be at least 1");
            }
        }
    }

    /** The device SDK's frame size (it keeps frames small; the hub accepts larger ones). */
    static final int MAX_FRAME_BYTES = 4 * 1024;
    /** How long the SDK's open waits for its links to be attached. */
    static final long OPEN_TIMEOUT_MILLIS = 60_000;
    /** The credit the SDK keeps on each receiver link. */
    static final int RECEIVE_WINDOW = 1024;
    static final Symbol API_VERSION_KEY = Symbol.valueOf("com.microsoft:api-version");
    static final Symbol CLIENT_VERSION_KEY = Symbol.valueOf("com.microsoft:client-version");
    static final Symbol CHANNEL_CORRELATION_ID_KEY = Symbol.valueOf("com.microsoft:channel-correlation-id");
    static final String METHOD_NAME = "IoThub-methodname";
    static final String METHOD_STATUS = "IoThub-status";
    static final String CONNECTION_DEVICE_ID = "iothub-connection-device-id";
    static final String CONNECTION_MODULE_ID = "iothub-connection-module-id";
    static final String CBS = "$cbs";
    /** The fleet's product string in {@code com.microsoft:client-version} (the SDK's has the same shape). */
    static final String CLIENT_VERSION = "dev.iotjobs.fleet-simulator/1.0 (" + System.getProperty("java.version") + "; "
            + System.getProperty("os.name") + "; " + System.getProperty("os.arch") + ")";

    private final Vertx vertx;
    private final Options options;
    private final ProtonClientOptions clientOptions;
    private final Map<String, Device> devices = new LinkedHashMap<>();
    private final AtomicInteger connected = new AtomicInteger();
    private final LongAdder totalMethodCalls = new LongAdder();
    private final LongAdder totalOtherMethodCalls = new LongAdder();
    private final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
    private final AtomicInteger retries = new AtomicInteger();
    private volatile FleetSimulator.ConnectStats connectStats;
    private volatile FleetSimulator.Faults faults;
    private volatile boolean closed;
    private final CompletableFuture<Void> closing = new CompletableFuture<>();

    private AmqpFleet(Vertx vertx, Options options, List<FleetSimulator.DeviceCredentials> credentials) throws Exception {
        this.vertx = vertx;
        this.options = options;
        this.clientOptions = clientOptions(FleetSimulator.loadTrust(options.trustStore(), options.trustStorePassword()));
        List<Context> contexts = FleetSimulator.eventLoopContexts(vertx);
        int i = 0;
        for (FleetSimulator.DeviceCredentials c : credentials) {
            if (devices.putIfAbsent(c.deviceId(), new Device(c, contexts.get(i++ % contexts.size()))) != null) {
                throw new IllegalArgumentException("device " + c.deviceId() + " is listed twice");
            }
        }
    }

    /**
     * Connects every device (TLS, SASL ANONYMOUS, put-token of its SAS token) and opens its telemetry and method
     * links. The future completes once every device has its method links attached, or fails with the first device
     * that could not connect after {@value FleetSimulator#MAX_ATTEMPTS} attempts (the devices already connected are
     * then disconnected).
     */
    public static CompletableFuture<AmqpFleet> connectAsync(Vertx vertx, Options options,
                                                            List<FleetSimulator.DeviceCredentials> devices) {
        AmqpFleet fleet;
        try {
            fleet = new AmqpFleet(vertx, options, devices);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
        return fleet.connectAll().handle((stats, error) -> {
            if (error != null) {
                fleet.closeAsync(); // may run on an event loop: must not block
                throw error instanceof RuntimeException r ? r : new IllegalStateException(error.getMessage(), error);
            }
            return fleet;
        });
    }

    /** Blocking {@link #connectAsync}; waits at most {@code timeout} (then disconnects everything). */
    public static AmqpFleet connect(Vertx vertx, Options options, List<FleetSimulator.DeviceCredentials> devices,
                                    Duration timeout) throws Exception {
        CompletableFuture<AmqpFleet> f = connectAsync(vertx, options, devices);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.thenAccept(AmqpFleet::closeAsync);
            throw new TimeoutException("devices not all connected over AMQP within " + timeout);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    /** Blocking connect with a generous timeout: 60 s plus 20 ms per device. */
    public static AmqpFleet connect(Vertx vertx, Options options, List<FleetSimulator.DeviceCredentials> devices) throws Exception {
        return connect(vertx, options, devices, Duration.ofSeconds(60).plusMillis(20L * devices.size()));
    }

    // ---------------------------------------------------------------- queries

    @Override
    public int connectedCount() {
        return connected.get();
    }

    @Override
    public int deviceCount() {
        return devices.size();
    }

    @Override
    public long methodCalls(String deviceId) {
        Device d = devices.get(deviceId);
        if (d == null) {
            throw new IllegalArgumentException("unknown device " + deviceId);
        }
        return d.methodCalls;
    }

    @Override
    public long totalMethodCalls() {
        return totalMethodCalls.sum();
    }

    @Override
    public long totalUnknownMethodCalls() {
        return totalOtherMethodCalls.sum();
    }

    /** Always 0: the AMQP devices do not open the twin links. */
    @Override
    public long totalDesiredPatches() {
        return 0;
    }

    /** Per answered call: from the request's arrival to the hub's disposition of the answer. */
    @Override
    public List<Long> methodLatenciesNanos() {
        return new ArrayList<>(latencies);
    }

    @Override
    public FleetSimulator.ConnectStats connectStats() {
        return connectStats;
    }

    @Override
    public AmqpFleet injectFaults(FleetSimulator.Faults value) {
        faults = Objects.requireNonNull(value, "faults");
        return this;
    }

    // ---------------------------------------------------------------- connect

    /** Runs {@code connectConcurrency} lanes; each lane connects one device after another. */
    private CompletableFuture<FleetSimulator.ConnectStats> connectAll() {
        List<Device> all = new ArrayList<>(devices.values());
        CompletableFuture<FleetSimulator.ConnectStats> done = new CompletableFuture<>();
        long start = System.nanoTime();
        if (all.isEmpty()) {
            connectStats = new FleetSimulator.ConnectStats(0, Duration.ZERO, 0);
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
            Device d = all.get(i);
            d.context.runOnContext(v -> connectDevice(d, 1).onComplete(ar -> {
                if (ar.failed()) {
                    done.completeExceptionally(new IllegalStateException("device " + d.credentials.deviceId()
                            + " could not connect over AMQP: " + ar.cause().getMessage(), ar.cause()));
                    return;
                }
                if (remaining.decrementAndGet() == 0) {
                    connectStats = new FleetSimulator.ConnectStats(all.size(), Duration.ofNanos(System.nanoTime() - start), retries.get());
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

    /** A refusal by the hub (put-token answered with an error, a link detached with a condition): not retried. */
    static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message, null, false, false);
        }
    }

    /** One attempt, then up to {@value FleetSimulator#MAX_ATTEMPTS} in all; runs on the device's context. */
    private Future<Void> connectDevice(Device d, int attempt) {
        if (closed) {
            return Future.failedFuture("simulator closed");
        }
        Attempt a = new Attempt(d);
        d.attempt = a;
        ProtonClient.create(vertx).connect(clientOptions, options.host(), options.amqpPort(), ar -> {
            if (ar.failed()) {
                a.fail(ar.cause());
                return;
            }
            ProtonConnection c = ar.result();
            a.connection = c;
            c.setHostname(options.host());
            c.setContainer(UUID.randomUUID().toString());
            c.openHandler(opened -> {
                if (opened.failed()) {
                    a.fail(opened.cause());
                } else {
                    authenticate(a);
                }
            });
            c.closeHandler(remoteClose -> {
                a.lost("the hub closed the connection" + why(c.getRemoteCondition()), c.getRemoteCondition() != null);
                c.close();
                c.disconnect();
            });
            c.disconnectHandler(x -> a.lost("the connection dropped", false));
            c.open();
        });
        // As the SDK's open: the links must be attached within 60 s (a dropped handshake is retried).
        long timer = vertx.setTimer(OPEN_TIMEOUT_MILLIS, t -> a.fail(new TimeoutException("device " + d.credentials.deviceId()
                + " not connected over AMQP within " + OPEN_TIMEOUT_MILLIS / 1000 + " s")));
        a.ready.future().onComplete(x -> vertx.cancelTimer(timer));
        return a.ready.future().compose(v -> {
            if (closed) { // closed while this device was connecting: do not leak its connection
                a.close();
                return Future.failedFuture("simulator closed");
            }
            return Future.<Void>succeededFuture();
        }).recover(e -> {
            a.close();
            return ConnectRetry.next(vertx, e, attempt, closed, RefusedException.class, retries,
                    next -> connectDevice(d, next));
        });
    }

    /** The claims-based security session: {@code $cbs} links, then one put-token of the device's SAS token. */
    private void authenticate(Attempt a) {
        FleetSimulator.DeviceCredentials id = a.device.credentials;
        ProtonSession cbs = a.connection.createSession();
        cbs.open();
        ProtonSender requests = a.link(cbs.createSender(CBS, new ProtonLinkOptions().setLinkName("cbs-sender")));
        requests.setQoS(ProtonQoS.AT_LEAST_ONCE);
        requests.setProperties(Map.of(API_VERSION_KEY, FleetSimulator.API_VERSION));
        ProtonReceiver answers = a.link(cbs.createReceiver(CBS, new ProtonLinkOptions().setLinkName("cbs-receiver")));
        answers.setProperties(Map.of(API_VERSION_KEY, FleetSimulator.API_VERSION));
        answers.setPrefetch(RECEIVE_WINDOW);
        UUID requestId = UUID.randomUUID();
        answers.handler((delivery, answer) -> {
            if (!requestId.equals(answer.getCorrelationId())) {
                return;
            }
            Object status = applicationProperty(answer, "status-code");
            if (Integer.valueOf(200).equals(status)) {
                openDeviceLinks(a);
            } else {
                a.fail(new RefusedException("the hub answered the put-token of " + id.deviceId() + " with "
                        + status + ": " + applicationProperty(answer, "status-description")));
            }
        });
        Future.all(opened(requests), opened(answers)).onSuccess(v -> {
            long expiry = System.currentTimeMillis() / 1000 + FleetSimulator.TOKEN_LIFETIME_SECONDS;
            String token = SasTokens.create(options.host() + "/" + id.sasResourcePath(), id.primaryKey(), null, expiry);
            requests.send(putToken(requestId, options.host() + "/devices/" + id.baseDeviceId(), token));
        });
        requests.open();
        answers.open();
    }

    /**
     * A put-token request as the device SDK sends it. {@code audience} is {@code {host}/devices/{deviceId}}, without
     * the module segment even for a module (the token's {@code sr} names the module).
     */
    static Message putToken(UUID requestId, String audience, String token) {
        Message m = Message.Factory.create();
        m.setMessageId(requestId); // the SDK's message id is a uuid, and so the hub's answer's correlation id
        m.setAddress(CBS);
        m.setReplyTo("cbs");
        Map<String, Object> props = new HashMap<>(4);
        props.put("operation", "put-token");
        props.put("type", "servicebus.windows.net:sastoken");
        props.put("name", audience);
        m.setApplicationProperties(new ApplicationProperties(props));
        m.setBody(new AmqpValue(token));
        return m;
    }

    /** The device's session: the telemetry pair (as the SDK's open), then the method pair (its subscribeToMethods). */
    private void openDeviceLinks(Attempt a) {
        Device d = a.device;
        String id = d.credentials.deviceId();
        String path = "/" + d.credentials.sasResourcePath(); // /devices/{d} or /devices/{d}/modules/{m}
        ProtonSession session = a.connection.createSession();
        session.open();
        String telemetryPair = UUID.randomUUID().toString();
        ProtonSender telemetry = a.link(session.createSender(path + "/messages/events",
                new ProtonLinkOptions().setLinkName("sender_link_telemetry-" + id + "-" + telemetryPair)));
        telemetry.setQoS(ProtonQoS.AT_LEAST_ONCE);
        telemetry.setProperties(linkProperties(id));
        ProtonReceiver c2d = a.link(session.createReceiver(path + "/messages/devicebound",
                new ProtonLinkOptions().setLinkName("receiver_link_telemetry-" + id + "-" + telemetryPair)));
        c2d.setProperties(linkProperties(id));
        c2d.setPrefetch(RECEIVE_WINDOW);
        c2d.handler((delivery, message) -> { }); // cloud-to-device messages are completed (auto-accept)
        Future.all(opened(telemetry), opened(c2d)).onSuccess(v -> {
            String methodsPair = UUID.randomUUID().toString();
            ProtonSender answers = a.link(session.createSender(path + "/methods/devicebound",
                    new ProtonLinkOptions().setLinkName("sender_link_devicemethods-" + id + "-" + methodsPair)));
            answers.setQoS(ProtonQoS.AT_LEAST_ONCE);
            answers.setProperties(linkProperties("methods:" + methodsPair));
            ProtonReceiver requests = a.link(session.createReceiver(path + "/methods/devicebound",
                    new ProtonLinkOptions().setLinkName("receiver_link_devicemethods-" + id + "-" + methodsPair)));
            requests.setProperties(linkProperties("methods:" + methodsPair));
            requests.setPrefetch(RECEIVE_WINDOW);
            requests.handler((delivery, request) -> onMethodRequest(d, answers, request)); // accepted after (auto-accept)
            Future.all(opened(answers), opened(requests)).onSuccess(x ->
                    // A refused attach is followed by its detach in the same read: decide on the next turn.
                    d.context.runOnContext(y -> a.ready()));
            answers.open();
            requests.open();
        });
        telemetry.open();
        c2d.open();
    }

    /** A device link's attach properties: API version, client version, channel correlation id. */
    private static Map<Symbol, Object> linkProperties(String channelCorrelationId) {
        Map<Symbol, Object> p = new HashMap<>(4);
        p.put(API_VERSION_KEY, FleetSimulator.API_VERSION);
        p.put(CLIENT_VERSION_KEY, CLIENT_VERSION);
        p.put(CHANNEL_CORRELATION_ID_KEY, channelCorrelationId);
        return p;
    }

    /** Completes when the hub's attach arrives. */
    private static Future<Void> opened(ProtonLink<?> link) {
        Promise<Void> p = Promise.promise();
        link.openHandler(ar -> {
            if (ar.succeeded()) {
                p.tryComplete();
            } else {
                p.tryFail(ar.cause());
            }
        });
        return p.future();
    }

    // ---------------------------------------------------------------- device behaviour (on the device's event loop)

    private void onMethodRequest(Device d, ProtonSender answers, Message request) {
        long received = System.nanoTime();
        Object correlation = request.getCorrelationId();
        Object name = applicationProperty(request, METHOD_NAME);
        if (correlation == null || name == null) {
            return; // nothing to answer to
        }
        UUID requestId;
        try {
            requestId = UUID.fromString(correlation.toString()); // the SDK answers with the request id as a uuid
        } catch (IllegalArgumentException e) {
            return; // the SDK cannot answer such a request either
        }
        MethodAnswers.Answer answer = MethodAnswers.answer(faults, d.credentials.deviceId(), name.toString());
        if (answer == null) {
            return; // a silent device (failure injection)
        }
        answers.send(methodAnswer(d.credentials.deviceId(), requestId, answer.status(), answer.body()), delivery -> {
            if (delivery.remotelySettled() && delivery.getRemoteState() instanceof Accepted) {
                latencies.add(System.nanoTime() - received);
            }
        });
        if (answer.status() == 200) {
            d.methodCalls++; // single writer: the device's event loop
            totalMethodCalls.increment();
        } else {
            totalOtherMethodCalls.increment();
        }
    }

    /**
     * A method answer as the device SDK sends it: a new message id, the request's id as a uuid correlation id,
     * {@code IoThub-status} as an int and the connection's identity as application properties, empty message
     * annotations, the JSON body as a Data section.
     */
    static Message methodAnswer(String clientId, UUID requestId, int status, byte[] body) {
        Message m = Message.Factory.create();
        m.setMessageId(UUID.randomUUID().toString());
        m.setCorrelationId(requestId);
        Map<String, Object> props = new HashMap<>(4);
        props.put(METHOD_STATUS, status); // an Integer: the AMQP int
        int slash = clientId.indexOf('/');
        props.put(CONNECTION_DEVICE_ID, slash < 0 ? clientId : clientId.substring(0, slash));
        if (slash >= 0) {
            props.put(CONNECTION_MODULE_ID, clientId.substring(slash + 1));
        }
        m.setApplicationProperties(new ApplicationProperties(props));
        m.setMessageAnnotations(new MessageAnnotations(new HashMap<>()));
        m.setBody(new Data(new Binary(body)));
        return m;
    }

    static Object applicationProperty(Message m, String name) {
        ApplicationProperties props = m.getApplicationProperties();
        return props == null || props.getValue() == null ? null : props.getValue().get(name);
    }

    private static String why(ErrorCondition condition) {
        return condition == null ? "" : ": " + condition.getCondition() + " " + condition.getDescription();
    }

    // ---------------------------------------------------------------- close

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

    /** Closes every device's connection (an AMQP Close, then the socket once the hub answers or after 5 s). */
    @Override
    public synchronized CompletableFuture<Void> closeAsync() {
        if (closed) {
            return closing;
        }
        closed = true;
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (Device d : devices.values()) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            pending.add(f);
            d.context.runOnContext(v -> {
                Attempt a = d.attempt;
                if (a == null) {
                    f.complete(null);
                } else {
                    a.closeThen(f);
                }
            });
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> closing.complete(null));
        return closing;
    }

    // ---------------------------------------------------------------- setup

    /** One options object for all devices (the trust store is read once). */
    private static ProtonClientOptions clientOptions(TrustManagerFactory trust) {
        ProtonClientOptions o = new ProtonClientOptions();
        o.setSsl(true);
        o.setSslEngineOptions(OpenSSLEngineOptions.isAvailable() ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions());
        o.setTrustOptions(TrustOptions.wrap(trust));
        // The hub's certificate has SAN IP:127.0.0.1; JSSE's HTTPS identification checks IP SANs for IP hosts.
        o.setHostnameVerificationAlgorithm("HTTPS");
        o.addEnabledSaslMechanism("ANONYMOUS"); // as the SDK with a SAS token: authentication is the put-token
        o.setMaxFrameSize(MAX_FRAME_BYTES);
        // proton announces twice the heartbeat as its idle timeout: 230 s, the SDK's keep-alive.
        o.setHeartbeat(FleetSimulator.KEEP_ALIVE_SECONDS * 1000 / 2);
        o.setConnectTimeout(60_000);
        o.setSslHandshakeTimeout(60);
        o.setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
        o.setReconnectAttempts(0);
        return o;
    }

    /** Per-device state. {@code methodCalls} is written on the device's event loop only and read from anywhere. */
    private static final class Device {
        final FleetSimulator.DeviceCredentials credentials;
        final Context context;
        volatile long methodCalls;
        /** The current (or last) connection attempt (event loop only). */
        Attempt attempt;

        Device(FleetSimulator.DeviceCredentials credentials, Context context) {
            this.credentials = credentials;
            this.context = context;
        }
    }

    /** One connection of a device, from TCP connect to its end; used on the device's event loop only. */
    private final class Attempt {
        final Device device;
        final Promise<Void> ready = Promise.promise();
        ProtonConnection connection;
        /** Counted in {@link AmqpFleet#connectedCount()}. */
        boolean counted;
        boolean ended;

        Attempt(Device device) {
            this.device = device;
        }

        /** Watches a link: a detach by the hub ends the connection, as it does for the SDK. */
        <L extends ProtonLink<L>> L link(L link) {
            link.closeHandler(ar -> lost("the hub detached " + link.getName() + why(link.getRemoteCondition()), true));
            link.detachHandler(ar -> lost("the hub detached " + link.getName() + why(link.getRemoteCondition()), true));
            return link;
        }

        void ready() {
            if (ended || ready.future().isComplete()) {
                return;
            }
            counted = true;
            connected.incrementAndGet(); // before completing: whoever waits on the last device reads the count
            ready.complete();
        }

        void fail(Throwable cause) {
            ready.tryFail(cause);
            close();
        }

        /**
         * The hub ended the connection or one of its links; {@code refused}: with an error condition (the hub said
         * no, which a retry will not change), else the connection dropped (retried while connecting).
         */
        void lost(String why, boolean refused) {
            if (ended) {
                return;
            }
            ready.tryFail(refused ? new RefusedException(why) : new IllegalStateException(why));
            close();
        }

        void close() {
            if (ended) {
                return;
            }
            ended = true;
            if (counted) {
                counted = false;
                connected.decrementAndGet();
            }
            if (connection != null) {
                connection.close();
                connection.disconnect();
            }
        }

        /** Sends Close, and lets the socket go once the hub answers it (or after 5 s). */
        void closeThen(CompletableFuture<Void> done) {
            if (ended || connection == null) {
                close();
                done.complete(null);
                return;
            }
            ended = true;
            if (counted) {
                counted = false;
                connected.decrementAndGet();
            }
            ProtonConnection c = connection;
            long timer = vertx.setTimer(5_000, t -> {
                c.disconnect();
                done.complete(null);
            });
            c.closeHandler(ar -> {
                vertx.cancelTimer(timer);
                c.disconnect();
                done.complete(null);
            });
            c.disconnectHandler(x -> {
                vertx.cancelTimer(timer);
                done.complete(null);
            });
            c.close();
        }
    }
}
