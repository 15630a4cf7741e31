package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.amqp.AmqpServer;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import dev.iotjobs.localhub.tls.VertxTlsOptions;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.TrustOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonReceiver;
import io.vertx.proton.ProtonSender;
import io.vertx.proton.ProtonServer;
import io.vertx.proton.ProtonServerOptions;
import org.apache.qpid.proton.amqp.Binary;
import org.apache.qpid.proton.amqp.messaging.ApplicationProperties;
import org.apache.qpid.proton.amqp.messaging.Data;
import org.apache.qpid.proton.message.Message;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The least a hub must do to call a direct method on every device connected over AMQP, for the limit-rpc-amqp
 * scenario: a bare vertx-proton server over TLS, configured as the hub's AMQP endpoint (its server certificate, TLS
 * engine, frame size and heartbeat, one listener per event loop), with vertx-proton's own SASL layer (ANONYMOUS).
 * It accepts every session and link (echoing source and target), answers every put-token on {@code $cbs} with 200
 * (no token check, no registry), and once a connection has both method links it counts the device ready. In each
 * round it sends one {@code lockDoor} request per device on that device's method link (the hub's request: a message
 * id, a uuid correlation id, {@code IoThub-methodname}, the method job's payload as a Data section) with at most a
 * given number unanswered, and counts the answers whose correlation id matches. No device sessions, store, job
 * engine or authentication: what remains is AMQP over loopback TLS.
 * <p>
 * Threads as in {@link LimitRpcServer}: each connection stays on its event loop; every loop drives the devices
 * connected to it with its share of the in-flight limit and sends the next request from the loop that read an answer.
 */
final class LimitRpcAmqpServer implements LimitRpc.Server {
    static final String METHOD_NAME = "IoThub-methodname";
    private static final String METHODS_SUFFIX = "/methods/devicebound";
    /** As the hub's AMQP endpoint ({@code IotHubAmqpEndpoint}): TLS handshake time-out and frame size. */
    private static final int TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;
    private static final int MAX_FRAME_BYTES = 16 * 1024;

    private final Vertx vertx;
    private final Map<Context, Loop> loops = new ConcurrentHashMap<>();
    /** Connections with both method links attached. */
    private final AtomicInteger ready = new AtomicInteger();
    private int port;

    private LimitRpcAmqpServer(Vertx vertx) {
        this.vertx = vertx;
    }

    /** Starts the server on a free port of 127.0.0.1, presenting the hub's server certificate of {@code ca}. */
    static LimitRpcAmqpServer start(DevCertificateAuthority ca) throws Exception {
        LimitRpcAmqpServer server = new LimitRpcAmqpServer(LimitRpc.Server.newVertx());
        try {
            server.port = LimitRpc.Server.freePort();
            ProtonServerOptions options = options(ca, server.port);
            LimitRpc.Server.listenOnEveryEventLoop(server.vertx, () -> {
                Promise<ProtonServer> listening = Promise.promise();
                ProtonServer.create(server.vertx, options).connectHandler(server::onConnect)
                        .listen(options.getPort(), options.getHost(), listening::handle);
                return listening.future();
            });
        } catch (Exception e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The hub's AMQP/TLS listener options (heartbeat, frame size, TLS as {@code IotHubAmqpEndpoint.listenTls}). */
    private static ProtonServerOptions options(DevCertificateAuthority ca, int port) {
        ProtonServerOptions options = new ProtonServerOptions().setHeartbeat(AmqpServer.HEARTBEAT_MILLIS).setMaxFrameSize(MAX_FRAME_BYTES);
        options.setHost(WellKnownKeys.HOST_NAME).setPort(port);
        options.setSsl(true).setKeyCertOptions(VertxTlsOptions.serverKeyCertOptions(ca))
                .setSslEngineOptions(VertxTlsOptions.engine(HubConfig.TlsEngine.AUTO))
                .setClientAuth(ClientAuth.REQUEST).setTrustOptions(TrustOptions.wrap(DeviceCertificates.acceptAnyClientCertificate()))
                .setSslHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS).setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
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

    @Override
    public LimitRpcServer.RoundResult round(int maxInFlight, long timeoutMillis) throws Exception {
        int total = ready.get();
        LimitRpcServer.Round round = new LimitRpcServer.Round(total);
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
        long[] millis = new long[total];
        int k = 0;
        for (Loop loop : loops.values()) {
            for (int i = 0; i < loop.answered; i++) {
                millis[k++] = loop.latencies[i] / 1_000_000;
            }
        }
        Arrays.sort(millis, 0, k);
        return new LimitRpcServer.RoundResult(seconds, Arrays.copyOf(millis, k));
    }

    // ---------------------------------------------------------------- on the event loops

    private void onConnect(ProtonConnection c) {
        Loop loop = loops.computeIfAbsent(Vertx.currentContext(), Loop::new);
        Device d = new Device(loop);
        c.setContainer(WellKnownKeys.HOST_NAME);
        c.openHandler(o -> c.open());
        c.closeHandler(x -> {
            c.close();
            c.disconnect();
        });
        c.disconnectHandler(ProtonConnection::disconnect);
        c.sessionOpenHandler(s -> s.open());
        c.receiverOpenHandler(receiver -> {
            receiver.setSource(receiver.getRemoteSource());
            receiver.setTarget(receiver.getRemoteTarget());
            receiver.setQoS(receiver.getRemoteQoS());
            String address = receiver.getRemoteTarget() == null ? "" : receiver.getRemoteTarget().getAddress();
            if ("$cbs".equals(address)) {
                receiver.handler((delivery, request) -> d.putTokenAnswered(request)); // auto-accepted
            } else if (address != null && address.endsWith(METHODS_SUFFIX)) {
                receiver.handler((delivery, answer) -> d.answered(answer)); // auto-accepted
                d.answers = receiver;
                d.maybeReady();
            }
            // telemetry: attached, nothing arrives
            receiver.open();
        });
        c.senderOpenHandler(sender -> {
            sender.setSource(sender.getRemoteSource());
            sender.setTarget(sender.getRemoteTarget());
            sender.setQoS(sender.getRemoteQoS());
            String address = sender.getRemoteSource() == null ? "" : sender.getRemoteSource().getAddress();
            if ("$cbs".equals(address)) {
                d.cbsReplies = sender;
            } else if (address != null && address.endsWith(METHODS_SUFFIX)) {
                d.requests = sender;
                d.maybeReady();
            }
            // cloud-to-device: attached, nothing is sent
            sender.open();
        });
    }

    /** One device connection; used on its event loop only. */
    private final class Device {
        final Loop loop;
        ProtonSender cbsReplies;
        ProtonSender requests;
        ProtonReceiver answers;
        boolean counted;
        /** The correlation id of the request in flight, or null. */
        UUID expected;
        long sentNanos;

        Device(Loop loop) {
            this.loop = loop;
        }

        /** A put-token's answer: 200, correlation id = the request's message id, as the hub's {@code $cbs}. */
        void putTokenAnswered(Message request) {
            Message answer = Message.Factory.create();
            answer.setCorrelationId(request.getMessageId());
            Map<String, Object> props = new HashMap<>(4);
            props.put("status-code", 200);
            props.put("status-description", "OK");
            answer.setApplicationProperties(new ApplicationProperties(props));
            if (cbsReplies != null) {
                cbsReplies.send(answer);
            }
        }

        void maybeReady() {
            if (requests != null && answers != null && !counted) {
                counted = true;
                loop.devices.add(this);
                ready.incrementAndGet();
            }
        }

        void send() {
            UUID correlation = UUID.randomUUID();
            expected = correlation;
            sentNanos = System.nanoTime();
            Message request = Message.Factory.create();
            request.setMessageId(correlation.toString());
            request.setCorrelationId(correlation);
            request.setApplicationProperties(new ApplicationProperties(Map.of(METHOD_NAME, "lockDoor")));
            request.setBody(new Data(new Binary(LimitRpcServer.PAYLOAD)));
            requests.send(request);
        }

        void answered(Message answer) {
            if (expected != null && expected.equals(answer.getCorrelationId())) {
                expected = null;
                loop.answered(this);
            }
            // Anything else (a stale or unknown correlation id) is not counted: the round then times out.
        }
    }

    /** The devices of one event loop and its part of a round; used on that loop only. */
    private static final class Loop {
        final Context context;
        final List<Device> devices = new ArrayList<>();
        LimitRpcServer.Round round;
        int budget;
        int next;
        int answered;
        long[] latencies = new long[0];

        Loop(Context context) {
            this.context = context;
        }

        /** Starts this loop's share: up to its part of {@code maxInFlight}, in proportion to its devices. */
        void start(LimitRpcServer.Round r, int maxInFlight, int total) {
            round = r;
            budget = Math.max(1, (int) Math.round((double) maxInFlight * devices.size() / Math.max(1, total)));
            next = 0;
            answered = 0;
            latencies = new long[devices.size()];
            while (next < budget && next < devices.size()) {
                devices.get(next++).send();
            }
        }

        void answered(Device d) {
            latencies[answered++] = System.nanoTime() - d.sentNanos;
            if (round.remaining.decrementAndGet() == 0) {
                round.done.complete(null);
            }
            if (next < devices.size()) {
                devices.get(next++).send();
            }
        }
    }

    @Override
    public void close() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }
}
