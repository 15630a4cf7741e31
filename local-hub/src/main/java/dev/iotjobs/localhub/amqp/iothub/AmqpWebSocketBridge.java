package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.tls.DeviceCertificates;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.proton.ProtonConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * AMQP over WebSockets ({@code IotHubClientProtocol.AMQPS_WS}, and the service SDK's {@code AMQPS_WS}) on the
 * hub's HTTPS port: the SDKs open {@code wss://<host>:443/$iothub/websocket} with sub-protocol {@code AMQPWSB10}
 * and then speak AMQP in binary frames. MQTT over WebSockets uses the same path with sub-protocol {@code mqtt}: the
 * sub-protocol the client asks for decides, everything else on that port stays REST.
 * <p>
 * As for MQTT (see {@code MqttWebSocketBridge}), each WebSocket is piped to a plain-TCP AMQP listener on an
 * ephemeral loopback port served by the same {@link IotHubAmqpEndpoint} as port 5671 (vertx-proton has no
 * WebSocket server), so a WebSocket client gets exactly the same SASL, put-token checks, links and limits; TLS,
 * its certificate and the CONNECT-proxy fallback are those of the REST port. The internal listener admits only
 * connections this bridge opened (by local port), each with the WebSocket's TLS client certificates.
 */
public final class AmqpWebSocketBridge {
    private static final Logger LOG = LoggerFactory.getLogger(AmqpWebSocketBridge.class);
    public static final String SUB_PROTOCOL = "AMQPWSB10";
    private static final String PATH = "/$iothub/websocket";

    private final String host;
    private final int internalPort;
    private final NetClient client;
    private final Map<Integer, Optional<X509Certificate[]>> bridged = new ConcurrentHashMap<>();

    public AmqpWebSocketBridge(Vertx vertx, String host, int internalPort) {
        this.host = host;
        this.internalPort = internalPort;
        this.client = vertx.createNetClient();
    }

    /** Adds the {@code AMQPWSB10} sub-protocol to those the HTTPS server negotiates. */
    public static HttpServerOptions configure(HttpServerOptions options) {
        List<String> protocols = new ArrayList<>(options.getWebSocketSubProtocols() == null ? List.of()
                : options.getWebSocketSubProtocols());
        if (!protocols.contains(SUB_PROTOCOL)) {
            protocols.add(SUB_PROTOCOL);
        }
        return options.setWebSocketSubProtocols(protocols);
    }

    /** Wraps the HTTPS handler: upgrades on the IoT Hub path asking for {@code AMQPWSB10} become AMQP connections. */
    public Handler<HttpServerRequest> in(Handler<HttpServerRequest> others) {
        return request -> {
            if (isAmqpUpgrade(request)) {
                bridge(request);
            } else {
                others.handle(request);
            }
        };
    }

    static boolean isAmqpUpgrade(HttpServerRequest request) {
        String path = request.path();
        if (!(PATH.equals(path) || "/%24iothub/websocket".equalsIgnoreCase(path)) || !request.canUpgradeToWebSocket()) {
            return false;
        }
        String protocols = request.getHeader("Sec-WebSocket-Protocol");
        if (protocols == null) {
            return false;
        }
        for (String p : protocols.split(",")) {
            if (p.trim().toUpperCase(Locale.ROOT).equals(SUB_PROTOCOL)) {
                return true;
            }
        }
        return false;
    }

    /**
     * For the internal listener: admits a connection this bridge made, recording its WebSocket's TLS client
     * certificates on it; refuses anything else that found the loopback port.
     */
    boolean admit(NetSocket socket, ProtonConnection connection) {
        ConnectionFacts facts = ConnectionFacts.of(socket);
        Optional<X509Certificate[]> certificates = bridged.get(facts.remotePort());
        if (certificates == null) {
            LOG.info("Refused an AMQP connection to the internal WebSocket listener not made by the hub (port {})",
                    facts.remotePort());
            return false;
        }
        facts.withCertificates(certificates.orElse(null)).attachTo(connection);
        return true;
    }

    private void bridge(HttpServerRequest request) {
        request.toWebSocket().onComplete(upgraded -> {
            if (upgraded.failed()) {
                LOG.debug("AMQP WebSocket upgrade failed: {}", upgraded.cause().toString());
                return;
            }
            ServerWebSocket ws = upgraded.result();
            ws.pause();
            client.connect(internalPort, host).onComplete(connected -> {
                if (connected.failed()) {
                    LOG.warn("AMQP WebSocket: cannot reach the internal AMQP listener", connected.cause());
                    ws.close((short) 1011, "AMQP endpoint unavailable");
                    return;
                }
                NetSocket socket = connected.result();
                int localPort = socket.localAddress().port();
                bridged.put(localPort, Optional.ofNullable(clientCertificates(ws)));
                socket.closeHandler(v -> {
                    bridged.remove(localPort);
                    if (!ws.isClosed()) {
                        ws.close();
                    }
                });
                ws.closeHandler(v -> socket.close());
                ws.exceptionHandler(e -> LOG.debug("AMQP WebSocket failed: {}", e.toString()));
                ws.pipeTo(socket);
                socket.pipeTo(ws);
            });
        });
    }

    private static X509Certificate[] clientCertificates(ServerWebSocket ws) {
        try {
            return ws.isSsl() && ws.sslSession() != null
                    ? DeviceCertificates.x509(ws.sslSession().getPeerCertificates()) : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    public Future<Void> close() {
        return client.close();
    }
}
