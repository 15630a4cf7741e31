package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.auth.DeviceAuthenticator;
import dev.iotjobs.localhub.config.AmqpLimits;
import dev.iotjobs.localhub.auth.ModuleAuthenticator;
import dev.iotjobs.localhub.auth.ServiceAuthenticator;
import dev.iotjobs.localhub.amqp.AmqpServer;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.edge.DeviceEdge;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.proton.ProtonConnection;
import io.vertx.proton.ProtonServer;
import io.vertx.proton.ProtonServerOptions;
import org.apache.qpid.proton.amqp.transport.AmqpError;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * IoT Hub's AMQP endpoint for devices, modules and services: {@code amqps://127.0.0.1:5671}, and AMQP over
 * WebSockets on 443 (see {@link AmqpWebSocketBridge}). Clients authenticate as the SDKs do (SASL ANONYMOUS or no
 * SASL, then a put-token on {@code $cbs}; or an X.509 device's TLS client certificate), then attach the links of
 * the Microsoft docs page "Communicate with your IoT hub by using the AMQP protocol" ({@link LinkAddress}).
 * One server per event loop; no thread per connection.
 */
public final class IotHubAmqpEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(IotHubAmqpEndpoint.class);
    /** The TLS handshake must finish within this time (as on the hub's other TLS listeners). */
    private static final int TLS_HANDSHAKE_TIMEOUT_SECONDS = 10;
    /** The largest frame the hub accepts on this endpoint (advertised in its Open). */
    static final int MAX_FRAME_BYTES = 16 * 1024;

    private final Vertx vertx;
    private final AmqpLimits limits;
    private final Clock clock;
    private final TokenCheck tokens;
    private final DeviceLinks devices;
    private final ServiceLinks services;
    private final AtomicInteger connections = new AtomicInteger();
    private final Set<IotHubAmqpConnection> open = ConcurrentHashMap.newKeySet();

    public IotHubAmqpEndpoint(Vertx vertx, WorkerExecutor workers, DeviceEdge edge, C2dQueues c2d,
                              DeviceAuthenticator deviceAuthenticator, ModuleAuthenticator moduleAuthenticator,
                              ServiceAuthenticator serviceAuthenticator, AmqpLimits limits, Clock clock) {
        this.vertx = vertx;
        this.limits = limits;
        this.clock = clock;
        this.tokens = new TokenCheck(deviceAuthenticator, moduleAuthenticator, serviceAuthenticator);
        this.devices = new DeviceLinks(workers, edge, c2d.settings().lockDuration());
        this.services = new ServiceLinks(workers, c2d, edge);
    }

    /**
     * Starts an AMQP over TLS server on this event loop ({@code host:port}, 0: any): the hub's certificate, and an
     * optional TLS client certificate for X.509 devices, accepted at the TLS layer and checked against the
     * registry when a device link is attached.
     */
    public Future<ProtonServer> listenTls(String host, int port, KeyCertOptions serverKey, SSLEngineOptions engine,
                                     TrustOptions anyClientCertificate) {
        ProtonServerOptions options = options(host, port);
        options.setSsl(true).setKeyCertOptions(serverKey).setSslEngineOptions(engine)
                .setClientAuth(ClientAuth.REQUEST).setTrustOptions(anyClientCertificate)
                .setSslHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_SECONDS).setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
        return AmqpServer.listen(vertx, options, WellKnownKeys.HOST_NAME, (socket, connection) -> {
            ConnectionFacts.of(socket).attachTo(connection);
            return true;
        }, this::handle);
    }

    /** Starts the internal plain-TCP server behind {@code bridge} on this event loop (loopback only). */
    public Future<ProtonServer> listenBehind(AmqpWebSocketBridge bridge, String host, int port) {
        return AmqpServer.listen(vertx, options(host, port), WellKnownKeys.HOST_NAME, bridge::admit, this::handle);
    }

    private ProtonServerOptions options(String host, int port) {
        ProtonServerOptions options = AmqpServer.options(host, port);
        // proton-j keeps a buffer of the hub's max frame size per connection: the IoT SDKs' own frames are 4 KB,
        // so 16 KB frames cost them nothing and keep idle device connections small (larger messages span frames).
        options.setMaxFrameSize(MAX_FRAME_BYTES);
        // Sockets that never get as far as AMQP (no SASL, no Open) are closed too; live clients send empty frames
        // at least every heartbeat.
        options.setIdleTimeout((int) Math.max(1, AmqpServer.HEARTBEAT_MILLIS * 5L / 2000)).setIdleTimeoutUnit(TimeUnit.SECONDS);
        return options;
    }

    private void handle(ProtonConnection connection) {
        if (connections.incrementAndGet() > limits.connections()) {
            connections.decrementAndGet();
            LOG.warn("Refused an AMQP connection: {} connections are open, the most this hub accepts "
                    + "(AmqpLimits.connections)", limits.connections());
            connection.setCondition(new ErrorCondition(AmqpError.RESOURCE_LIMIT_EXCEEDED, "The hub already has "
                    + limits.connections() + " AMQP connections open, the most it accepts; retry later."));
            connection.openHandler(ar -> {
                connection.open();
                connection.close();
                connection.disconnect();
            });
            return;
        }
        IotHubAmqpConnection opened = new IotHubAmqpConnection(this, connection, ConnectionFacts.of(connection), vertx);
        open.add(opened);
        opened.start();
    }

    void connectionClosed(IotHubAmqpConnection connection) {
        open.remove(connection);
        connections.decrementAndGet();
    }

    /**
     * The hub is stopping: every open connection gets an AMQP Close with {@code amqp:connection:forced}, the
     * condition IoT Hub closes connections with when it moves or restarts them, and the clients reconnect. (A
     * socket closed without a Close goes unnoticed by the Java device SDK over AMQPS until its idle timeout.)
     * Completes once every Close is written.
     */
    public Future<Void> closeAll(String description) {
        return Future.join(open.stream().map(connection -> connection.forceClose(description)).toList()).mapEmpty();
    }

    /** Open AMQP connections (TLS and WebSocket). */
    public int openConnections() {
        return connections.get();
    }

    AmqpLimits limits() {
        return limits;
    }

    Clock clock() {
        return clock;
    }

    TokenCheck tokens() {
        return tokens;
    }

    DeviceLinks devices() {
        return devices;
    }

    ServiceLinks services() {
        return services;
    }
}
