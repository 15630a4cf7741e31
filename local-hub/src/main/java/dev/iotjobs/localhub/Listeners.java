package dev.iotjobs.localhub;

import dev.iotjobs.localhub.amqp.iothub.AmqpWebSocketBridge;
import dev.iotjobs.localhub.amqp.iothub.IotHubAmqpEndpoint;
import dev.iotjobs.localhub.concurrent.ConnectionCap;
import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.console.ConsoleServer;
import dev.iotjobs.localhub.mqtt.MqttDeviceHandler;
import dev.iotjobs.localhub.mqtt.MqttWebSocketBridge;
import dev.iotjobs.localhub.rest.ConnectProxy;
import dev.iotjobs.localhub.rest.HttpDeadlines;
import dev.iotjobs.localhub.rest.RestApi;
import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;
import dev.iotjobs.localhub.tls.VertxTlsOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.TCPSSLOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.ext.web.Router;
import io.vertx.mqtt.MqttServer;
import io.vertx.proton.ProtonServer;
import io.vertx.mqtt.MqttServerOptions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.function.ToIntFunction;
import java.util.function.Supplier;

/**
 * Every network listener of the hub, bound in one place: MQTT over TLS (devices), HTTPS (services, and MQTT over
 * WebSockets on the same port), AMQP over TLS (devices and services; AMQP over WebSockets on the HTTPS port), the
 * CONNECT proxy when 443 cannot be bound, and the web console. A port that
 * cannot be bound is explained the same way for each: which port, which endpoint, and the option that moves it.
 * A new endpoint (AMQP on 5671/5672) is one more method here. Every listener holds a bounded number of
 * connections ({@code HubLimits}, {@code AmqpLimits.connections}; see {@code ConnectionCap}) and refuses more in
 * its protocol's words, with a log line.
 */
final class Listeners {
    private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);
    /** A TLS handshake must finish within this time on every endpoint (Vert.x's default, stated). */
    static final int TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;
    /** How long a stopping hub keeps its connections open after its listeners stopped accepting. */
    static final Duration STOP_GRACE = Duration.ofMillis(500);
    /** The tier's throttles, which the console's own calls are exempt from (see ConsoleServer). */
    private final HubThrottles throttles;
    private final Vertx vertx;
    private final HubConfig config;
    private final DevCertificateAuthority certificates;
    private HttpDeadlines deadlines;
    private ConnectProxy proxy;
    private ConsoleServer console;
    private String consoleProblem;
    private int mqttPort;
    private int amqpPort;
    private int restPort;
    private int proxyPort = -1;
    private String restBindProblem;
    private IotHubAmqpEndpoint amqp;
    /** The deployments of the device and service listeners (one listener per event loop each), and the listeners. */
    private final List<String> deployments = new CopyOnWriteArrayList<>();
    private final List<Object> servers = new CopyOnWriteArrayList<>();

    Listeners(Vertx vertx, HubConfig config, DevCertificateAuthority certificates, HubThrottles throttles) {
        this.throttles = throttles;
        this.vertx = vertx;
        this.config = config;
        this.certificates = certificates;
    }

    /**
     * Binds the device and service endpoints and returns once they listen: MQTT, HTTPS (with MQTT over
     * WebSockets), and the CONNECT proxy when the REST port was refused or the configuration asks for it.
     */
    void bind(MqttDeviceHandler mqtt, IotHubAmqpEndpoint amqp, Router router, HttpDeadlines deadlines) {
        this.amqp = amqp;
        this.deadlines = deadlines;
        // The listeners bind at once (each TLS one builds its context on a Vert.x worker thread);
        // "any port" requests get distinct free ports first.
        int anyPorts = 2 + (config.mqttPort() == 0 ? 1 : 0) + (config.restPort() == 0 ? 1 : 0)
                + (config.amqpPort() == 0 ? 1 : 0);
        int[] free = freePorts(anyPorts);
        int webSocketMqttPort = free[0];
        int webSocketAmqpPort = free[1];
        int nextFree = 2;
        int wantedMqttPort = config.mqttPort() == 0 ? free[nextFree++] : config.mqttPort();
        int wantedRestPort = config.restPort() == 0 ? free[nextFree++] : config.restPort();
        int wantedAmqpPort = config.amqpPort() == 0 ? free[nextFree++] : config.amqpPort();
        // One listener per event loop: Vert.x spreads connections over them (no thread per device).
        Future<Integer> mqttListening = listenOnEveryEventLoop(() -> MqttServer.create(vertx, mqttOptions(wantedMqttPort))
                .endpointHandler(mqtt::handle)
                .listen(), MqttServer::actualPort);
        // MQTT over WebSockets: upgrades on the REST port, piped to a loopback MQTT listener (see the bridge).
        MqttWebSocketBridge webSockets = new MqttWebSocketBridge(vertx, config.bindHost(), webSocketMqttPort);
        Future<Integer> bridgeListening = listenOnEveryEventLoop(() -> MqttServer.create(vertx, new MqttServerOptions()
                        .setHost(config.bindHost()).setPort(webSocketMqttPort).setMaxMessageSize(256 * 1024))
                .endpointHandler(webSockets.guard(mqtt::handle))
                .listen(), MqttServer::actualPort);
        // AMQP (devices and services) on 5671, and AMQP over WebSockets on the REST port next to MQTT's.
        Future<Integer> amqpListening = listenOnEveryEventLoop(() -> amqp.listenTls(config.bindHost(), wantedAmqpPort,
                VertxTlsOptions.serverKeyCertOptions(certificates), VertxTlsOptions.engine(config.tlsEngine()),
                TrustOptions.wrap(dev.iotjobs.localhub.tls.DeviceCertificates.acceptAnyClientCertificate())),
                ProtonServer::actualPort);
        AmqpWebSocketBridge amqpWebSockets = new AmqpWebSocketBridge(vertx, config.bindHost(), webSocketAmqpPort);
        Future<Integer> amqpBridgeListening = listenOnEveryEventLoop(() ->
                amqp.listenBehind(amqpWebSockets, config.bindHost(), webSocketAmqpPort), ProtonServer::actualPort);
        Handler<HttpServerRequest> served = amqpWebSockets.in(webSockets.in(router));
        // A connection over the HTTPS cap gets 503 on its first request, before anything else sees it.
        Handler<HttpServerRequest> restHandler = request -> {
            if (!deadlines.refuseIfOverCap(request)) {
                if (request.canUpgradeToWebSocket()) {
                    deadlines.onUpgradeRequest(request);
                }
                served.handle(request);
            }
        };
        Future<Integer> restListening = listenRest(restHandler, wantedRestPort);
        mqttPort = bindOrExplain("MQTT (devices)", "--mqtt-port", wantedMqttPort, () -> await(mqttListening));
        await(bridgeListening);
        amqpPort = bindOrExplain("AMQP (devices and services)", "--amqp-port", wantedAmqpPort, () -> await(amqpListening));
        await(amqpBridgeListening);
        restPort = restPortOrRefused(restListening);
        if (restPort < 0) {
            restPort = restPortOrRefused(listenRest(restHandler, freePorts(1)[0]));
        }
        if (restBindProblem != null || config.alwaysProxy()) {
            proxy = new ConnectProxy(vertx, config.bindHost(), restPort, new ConnectionCap("CONNECT proxy",
                    "HubLimits.proxyConnections", config.limits().proxyConnections()),
                    config.limits().proxyConnectTimeout());
            proxyPort = bindOrExplain("CONNECT proxy", "--proxy-port", config.proxyPort(),
                    () -> await(proxy.listen(config.bindHost(), config.proxyPort())));
        }
    }

    /** Starts the console; when its port cannot be bound the hub runs on without it and says why. */
    void startConsoleOrExplain(int port) {
        try {
            bindOrExplain("web console", "--console-port", " or --no-console", port, () -> {
                startConsole(port);
                return console.port();
            });
        } catch (RuntimeException e) {
            consoleProblem = e.getMessage();
        }
    }

    /**
     * Starts the web console on 127.0.0.1:{@code port} (0: any free port) unless it runs, and returns its URL.
     * It acts on this hub through the REST API with the iothubowner policy (docs/console.md).
     */
    synchronized String startConsole(int port) {
        if (console == null) {
            console = await(ConsoleServer.start(vertx, new ConsoleServer.Target(WellKnownKeys.HOST_NAME, restPort,
                    certificates.caPemPath(), WellKnownKeys.HOST_NAME, "iothubowner", WellKnownKeys.IOTHUBOWNER_KEY),
                    port, throttles, new ConnectionCap("web console", "HubLimits.consoleConnections",
                            config.limits().consoleConnections())));
            consoleProblem = null;
        }
        return console.url();
    }

    synchronized void stopConsole() {
        if (console != null) {
            await(console.close());
            console = null;
        }
    }

    synchronized String consoleUrl() {
        return console == null ? null : console.url();
    }

    /** The console's port, or -1 when it does not run. */
    synchronized int consolePort() {
        return console == null ? -1 : console.port();
    }

    String consoleProblem() {
        return consoleProblem;
    }

    int mqttPort() {
        return mqttPort;
    }

    int amqpPort() {
        return amqpPort;
    }

    int restPort() {
        return restPort;
    }

    int proxyPort() {
        return proxyPort;
    }

    String restBindProblem() {
        return restBindProblem;
    }

    private MqttServerOptions mqttOptions(int port) {
        MqttServerOptions options = new MqttServerOptions();
        options.setSsl(true).setKeyCertOptions(VertxTlsOptions.serverKeyCertOptions(certificates))
                .setSslEngineOptions(VertxTlsOptions.engine(config.tlsEngine()))
                .setHost(config.bindHost()).setPort(port);
        requestClientCertificates(options);
        options.setMaxMessageSize(256 * 1024);
        options.setTimeoutOnConnect((int) Math.max(1, config.limits().mqttConnectTimeout().toSeconds()));
        options.setSslHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS).setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
        return options;
    }

    /**
     * X.509 devices: both device endpoints (8883, and 443 for MQTT over WebSockets) ask for an optional client
     * certificate and accept any at the TLS layer; the device endpoint then checks it against the registry
     * (DeviceAuthenticator). Clients without a certificate, such as the service SDK, are unaffected.
     */
    private static <T extends TCPSSLOptions> T requestClientCertificates(T options) {
        if (options instanceof NetServerOptions server) {
            server.setClientAuth(ClientAuth.REQUEST);
        }
        options.setTrustOptions(TrustOptions.wrap(
                dev.iotjobs.localhub.tls.DeviceCertificates.acceptAnyClientCertificate()));
        return options;
    }

    /**
     * Runs a bind; "address already in use" (or "permission denied") becomes a message that names the port, the
     * endpoint and the option that moves it.
     */
    int bindOrExplain(String endpoint, String option, int port, IntSupplier bind) {
        return bindOrExplain(endpoint, option, "", port, bind);
    }

    /** As above; {@code alternative} follows the option in the advice (" or --no-console"). */
    private int bindOrExplain(String endpoint, String option, String alternative, int port, IntSupplier bind) {
        try {
            return bind.getAsInt();
        } catch (RuntimeException e) {
            if (!isBindProblem(e)) {
                throw e;
            }
            String why = String.valueOf(e.getMessage());
            String advice;
            if (!why.toLowerCase(Locale.ROOT).contains("in use")) {
                advice = "Start this hub with " + option + " <another port>" + alternative + ".";
            } else if (option.equals("--mqtt-port")) {
                advice = "Another local hub (or another server) is probably running there: stop it first (Ctrl-C in its"
                        + " terminal). Another port would not help: the device SDK always dials 8883.";
            } else {
                advice = "Another local hub (or another server) is probably running there: stop it, or start this hub with "
                        + option + " <another port>" + alternative + ".";
            }
            throw new IllegalStateException("port " + port + " on " + config.bindHost() + " (" + endpoint
                    + ") cannot be bound: " + why + ". " + advice, e);
        }
    }

    /** Starts binding the REST server (HTTPS, and MQTT over WebSockets) on {@code port}. */
    private Future<Integer> listenRest(Handler<HttpServerRequest> handler, int port) {
        return listenOnEveryEventLoop(() -> vertx.createHttpServer(requestClientCertificates(
                        AmqpWebSocketBridge.configure(MqttWebSocketBridge.configure(new HttpServerOptions()
                        .setSsl(true).setKeyCertOptions(VertxTlsOptions.serverKeyCertOptions(certificates))
                        .setSslEngineOptions(VertxTlsOptions.engine(config.tlsEngine()))
                        .setHost(config.bindHost()).setPort(port).setCompressionSupported(false)
                        .setMaxInitialLineLength(RestApi.MAX_REQUEST_LINE_BYTES)
                        .setMaxHeaderSize(RestApi.MAX_HEADER_BYTES)
                        .setSslHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS).setSslHandshakeTimeoutUnit(TimeUnit.SECONDS)))))
                .invalidRequestHandler(RestApi::invalidRequest)
                .connectionHandler(deadlines::onConnection)
                .requestHandler(handler).listen(), HttpServer::actualPort);
    }

    /** The REST server's port once bound; -1 (remembering why) when the port was refused. */
    private int restPortOrRefused(Future<Integer> listening) {
        try {
            return await(listening);
        } catch (RuntimeException e) {
            if (isBindProblem(e)) {
                restBindProblem = e.getMessage();
                return -1;
            }
            throw e;
        }
    }

    /**
     * Starts one listener per event loop, each created inside its own verticle instance so that it gets
     * its own event-loop context (listeners created from one plain thread would all share a single
     * event loop). Vert.x shares the port between them and spreads the connections.
     *
     * @return the bound port, once every listener is bound
     */
    private <S> Future<Integer> listenOnEveryEventLoop(Supplier<Future<S>> listen, ToIntFunction<S> actualPort) {
        AtomicInteger port = new AtomicInteger();
        return vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                return listen.get().onSuccess(server -> {
                    servers.add(server);
                    port.set(actualPort.applyAsInt(server));
                });
            }
        }, new DeploymentOptions().setInstances(config.eventLoops())).map(deployment -> {
            deployments.add(deployment);
            return port.get();
        });
    }

    /**
     * Closes the device and service listeners so that clients come back by themselves: first every listener stops
     * accepting, while the connections stay open for {@link #STOP_GRACE} (see {@link ListenerShutdown} for why a
     * listener must never accept a reconnection it then drops); halfway through, each AMQP connection gets a Close
     * ({@link IotHubAmqpEndpoint#closeAll}); then whatever is still open is closed. Clients reconnecting meanwhile
     * are refused at the TCP level, which every SDK retries.
     */
    void close() {
        List<Future<Void>> stopping = new ArrayList<>();
        for (Object server : servers) {
            stopping.add(ListenerShutdown.shutdown(server, STOP_GRACE));
        }
        if (proxy != null) {
            stopping.add(proxy.shutdown(STOP_GRACE));
        }
        if (amqp != null) {
            stopping.add(vertx.timer(STOP_GRACE.toMillis() / 2)
                    .compose(t -> amqp.closeAll("The hub is stopping; reconnect when it is back.")));
        }
        awaitQuietly(Future.join(stopping));
        servers.clear();
        awaitQuietly(Future.join(deployments.stream().map(vertx::undeploy).toList()));
        deployments.clear();
    }

    private static void awaitQuietly(Future<?> future) {
        try {
            await(future);
        } catch (RuntimeException e) {
            LOG.debug("A listener did not close cleanly: {}", e.getMessage());
        }
    }

    /**
     * {@code count} distinct free ports for "any port" requests (held open together, so no two are the same):
     * Vert.x shares one listening port between the listeners of all event loops only when they ask for the
     * same concrete port.
     */
    private int[] freePorts(int count) {
        ServerSocket[] sockets = new ServerSocket[count];
        try {
            InetAddress host = InetAddress.getByName(config.bindHost());
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                sockets[i] = new ServerSocket(0, 1, host);
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new IllegalStateException("No free port on " + config.bindHost() + ": " + e.getMessage(), e);
        } finally {
            for (ServerSocket socket : sockets) {
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // a port we only looked at
                    }
                }
            }
        }
    }

    private static boolean isBindProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException || t instanceof SocketException
                    || String.valueOf(t.getMessage()).contains("Permission denied")) {
                return true;
            }
        }
        return false;
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw Futures.rethrowable(e);
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }
}
