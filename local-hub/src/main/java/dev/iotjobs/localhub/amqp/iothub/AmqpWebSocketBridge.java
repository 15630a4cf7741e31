package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.websocket.WebSocketTunnel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.NetSocket;
import io.vertx.proton.ProtonConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

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

    private final WebSocketTunnel tunnel;

    public AmqpWebSocketBridge(Vertx vertx, String host, int internalPort) {
        this.tunnel = new WebSocketTunnel(vertx, "AMQP", host, internalPort);
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
                tunnel.bridge(request);
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
        Optional<X509Certificate[]> certificates = tunnel.opened(facts.remotePort());
        if (certificates == null) {
            LOG.info("Refused an AMQP connection to the internal WebSocket listener not made by the hub (port {})",
                    facts.remotePort());
            return false;
        }
        facts.withCertificates(certificates.orElse(null)).attachTo(connection);
        return true;
    }

    public Future<Void> close() {
        return tunnel.close();
    }
}
