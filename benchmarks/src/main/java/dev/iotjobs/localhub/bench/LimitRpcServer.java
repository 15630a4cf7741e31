package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import dev.iotjobs.localhub.tls.VertxTlsOptions;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.TrustOptions;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.MqttSubscribeMessage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The least a hub must do to call a direct method on every connected device, for the limit-rpc scenario: a
 * Vert.x MQTT server over TLS, configured as the hub's device endpoint, that accepts every CONNECT (no registry,
 * no SAS check), grants every subscription, and in each round publishes one {@code lockDoor} request per
 * device (QoS 0, the method-job's payload) with at most a given number in flight, counting the answers. No
 * store, no job engine, no sessions: what remains is MQTT over loopback TLS.
 * <p>
 * Threads: as in the hub, one listener per event loop; each connection stays on its loop. Every loop drives
 * the devices connected to it, with its share of the in-flight limit (the fleet spreads its connections evenly,
 * so the shares add up to the limit), and sends the next request from the loop that read an answer: nothing
 * is handed between threads while a round runs.
 */
final class LimitRpcServer implements LimitRpc.Server {
    /** The request the method job sends: {@code lockDoor} with payload {@code {"lockTime":"10m"}}. */
    static final String REQUEST_PREFIX = "$iothub/methods/POST/lockDoor/?$rid=";
    static final byte[] PAYLOAD = "{\"lockTime\":\"10m\"}".getBytes(StandardCharsets.UTF_8);
    static final String METHODS_FILTER = "$iothub/methods/POST/#";
    static final String ANSWER_200_PREFIX = "$iothub/methods/res/200/?$rid=";
    /** As {@code LocalHub.TLS_HANDSHAKE_TIMEOUT_SECONDS}. */
    private static final int TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;

    private final Vertx vertx;
    private final Map<Context, Loop> loops = new ConcurrentHashMap<>();
    /** Connections subscribed to method requests. */
    private final AtomicInteger ready = new AtomicInteger();
    private int port;

    private LimitRpcServer(Vertx vertx) {
        this.vertx = vertx;
    }

    /** Starts the server on a free port of 127.0.0.1, presenting the hub's server certificate of {@code ca}. */
    static LimitRpcServer start(DevCertificateAuthority ca) throws Exception {
        LimitRpcServer server = new LimitRpcServer(LimitRpc.Server.newVertx());
        try {
            server.port = LimitRpc.Server.freePort();
            MqttServerOptions options = mqttOptions(ca, server.port);
            LimitRpc.Server.listenOnEveryEventLoop(server.vertx,
                    () -> MqttServer.create(server.vertx, options).endpointHandler(server::onConnect).listen());
        } catch (Exception e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * The hub's MQTT/TLS listener options (mirrors the private {@code LocalHub.mqttOptions}): its server key and
     * chain, its TLS engine choice (BoringSSL where it loads), an optional client certificate accepted at the TLS
     * layer, the same message size and timeouts.
     */
    private static MqttServerOptions mqttOptions(DevCertificateAuthority ca, int port) {
        MqttServerOptions options = new MqttServerOptions();
        options.setSsl(true).setKeyCertOptions(VertxTlsOptions.serverKeyCertOptions(ca))
                .setSslEngineOptions(VertxTlsOptions.engine(HubConfig.TlsEngine.AUTO))
                .setHost(WellKnownKeys.HOST_NAME).setPort(port);
        options.setClientAuth(ClientAuth.REQUEST);
        options.setTrustOptions(TrustOptions.wrap(DeviceCertificates.acceptAnyClientCertificate()));
        options.setMaxMessageSize(256 * 1024);
        options.setTimeoutOnConnect((int) Math.max(1, HubLimits.DEFAULTS.mqttConnectTimeout().toSeconds()));
        options.setSslHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS).setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
        return options;
    }


    @Override
    public int port() {
        return port;
    }

    @Override
    public int ready() {
        return ready.get();
    }

    /** What one round measured. */
    record RoundResult(double seconds, long[] sortedLatencyMillis) {
    }

    /**
     * One round: a {@code lockDoor} request to every subscribed device, at most {@code maxInFlight} unanswered at
     * once; returns when every device has answered 200 to its request.
     */
    @Override
    public RoundResult round(int maxInFlight, long timeoutMillis) throws Exception {
        int total = ready.get();
        Round round = new Round(total);
        long start = System.nanoTime();
        for (Loop loop : loops.values()) {
            loop.context.runOnContext(v -> loop.start(round, maxInFlight, total));
        }
        try {
            round.done.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutException("round not done in " + timeoutMillis + " ms: " + round.remaining.get()
                    + " of " + total + " requests unanswered");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // Every loop's writes happened before its last decrement of round.remaining, which happened before done.
        long[] millis = new long[total];
        int k = 0;
        for (Loop loop : loops.values()) {
            for (int i = 0; i < loop.answered; i++) {
                millis[k++] = loop.latencies[i] / 1_000_000;
            }
        }
        Arrays.sort(millis, 0, k);
        return new RoundResult(seconds, Arrays.copyOf(millis, k));
    }

    // ---------------------------------------------------------------- on the event loops

    private void onConnect(MqttEndpoint endpoint) {
        Loop loop = loops.computeIfAbsent(Vertx.currentContext(), Loop::new);
        Connection c = new Connection(endpoint, loop);
        endpoint.publishAutoAck(false);
        endpoint.subscribeHandler(sub -> onSubscribe(c, sub));
        endpoint.unsubscribeHandler(unsub -> endpoint.unsubscribeAcknowledge(unsub.messageId()));
        endpoint.publishHandler(msg -> onPublish(c, msg));
        endpoint.exceptionHandler(e -> { /* the round times out if a device goes */ });
        endpoint.accept(false);
    }

    private void onSubscribe(Connection c, MqttSubscribeMessage sub) {
        List<MqttQoS> granted = new ArrayList<>();
        boolean methods = false;
        for (MqttTopicSubscription t : sub.topicSubscriptions()) {
            granted.add(t.qualityOfService() == MqttQoS.AT_MOST_ONCE ? MqttQoS.AT_MOST_ONCE : MqttQoS.AT_LEAST_ONCE);
            methods |= t.topicName().equals(METHODS_FILTER);
        }
        c.endpoint.subscribeAcknowledge(sub.messageId(), granted);
        if (methods && !c.subscribed) {
            c.subscribed = true;
            c.loop.connections.add(c);
            ready.incrementAndGet();
        }
    }

    private static void onPublish(Connection c, MqttPublishMessage msg) {
        if (msg.qosLevel() == MqttQoS.AT_LEAST_ONCE) {
            c.endpoint.publishAcknowledge(msg.messageId());
        }
        if (c.expectedAnswer != null && msg.topicName().equals(c.expectedAnswer)) {
            c.expectedAnswer = null;
            c.loop.answered(c);
        }
        // Anything else (another status, a stale rid) is not counted: the round then times out.
    }

    /** A round in progress: how many requests are unanswered over all loops. */
    static final class Round {
        final AtomicInteger remaining;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Round(int requests) {
            remaining = new AtomicInteger(requests);
            if (requests == 0) {
                done.complete(null);
            }
        }
    }

    /** One device connection; used on its event loop only. */
    private static final class Connection {
        final MqttEndpoint endpoint;
        final Loop loop;
        boolean subscribed;
        int lastRid;
        /** The answer topic of the request in flight, or null. */
        String expectedAnswer;
        long sentNanos;

        Connection(MqttEndpoint endpoint, Loop loop) {
            this.endpoint = endpoint;
            this.loop = loop;
        }
    }

    /** The connections of one event loop and its part of a round; used on that loop only. */
    private static final class Loop {
        final Context context;
        final List<Connection> connections = new ArrayList<>();
        Round round;
        int budget;
        int next;
        int inFlight;
        int answered;
        long[] latencies = new long[0];

        Loop(Context context) {
            this.context = context;
        }

        /** Starts this loop's share: up to its part of {@code maxInFlight}, in proportion to its connections. */
        void start(Round r, int maxInFlight, int total) {
            round = r;
            budget = Math.max(1, (int) Math.round((double) maxInFlight * connections.size() / Math.max(1, total)));
            next = 0;
            inFlight = 0;
            answered = 0;
            latencies = new long[connections.size()];
            while (inFlight < budget && next < connections.size()) {
                send(connections.get(next++));
            }
        }

        void answered(Connection c) {
            latencies[answered++] = System.nanoTime() - c.sentNanos;
            inFlight--;
            if (round.remaining.decrementAndGet() == 0) {
                round.done.complete(null);
            }
            if (next < connections.size()) {
                send(connections.get(next++));
            }
        }

        private void send(Connection c) {
            String rid = Integer.toHexString(++c.lastRid);
            c.expectedAnswer = ANSWER_200_PREFIX + rid;
            c.sentNanos = System.nanoTime();
            inFlight++;
            c.endpoint.publish(REQUEST_PREFIX + rid, Buffer.buffer(PAYLOAD), MqttQoS.AT_MOST_ONCE, false, false);
        }
    }

    @Override
    public void close() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }
}
