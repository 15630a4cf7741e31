package dev.iotjobs.localhub.mqtt;

import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import dev.iotjobs.localhub.websocket.WebSocketTunnel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.mqtt.MqttEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * MQTT over WebSockets ({@code IotHubClientProtocol.MQTT_WS}) on the hub's HTTPS port: the device SDK opens
 * {@code wss://<host>:443/$iothub/websocket} with sub-protocol {@code mqtt}; everything else on that port stays
 * REST.
 * <p>
 * Design. The HTTPS server accepts the upgrade on that one path, and each WebSocket is piped (binary frames to
 * bytes and back, with back-pressure both ways) to a plain-TCP {@link io.vertx.mqtt.MqttServer} on an ephemeral
 * loopback port whose endpoints go to the same {@link MqttDeviceHandler} as port 8883. So a WebSocket device
 * gets exactly the same CONNECT checks, topic ACLs, persistent session, twins and methods, and the TLS, the
 * certificate and the CONNECT-proxy fallback are those of the REST port, untouched. Alternatives: Vert.x MQTT's
 * own WebSocket mode ({@code MqttServerOptions.setUseWebSocket}) owns the whole HTTP pipeline of its port
 * (it answers its one path and nothing else), so it cannot share 443 with the REST router; putting it on an
 * internal port would need a WebSocket client per device and frames wrapped twice; and handing an upgraded
 * connection's Netty channel to the MQTT server needs Vert.x internals. The pipe costs one loopback connection
 * per WebSocket device and nothing for the other devices.
 * <p>
 * The internal listener speaks MQTT without TLS, so it accepts only the connections this bridge opened
 * (recognised by their local port); anything else that finds the port is refused before authentication.
 */
public final class MqttWebSocketBridge {
    private static final Logger LOG = LoggerFactory.getLogger(MqttWebSocketBridge.class);
    /** The device SDK's path ({@code MqttIotHubConnection.WEBSOCKET_RAW_PATH}); the query varies. */
    public static final String PATH = "/$iothub/websocket";
    /** Above the MQTT listener's 256 KB packet limit, so a packet always fits one frame. */
    private static final int MAX_FRAME_BYTES = 512 * 1024;

    private final WebSocketTunnel tunnel;

    /**
     * @param host         the internal listener's (loopback) address
     * @param internalPort the internal plain-TCP MQTT listener's port
     */
    public MqttWebSocketBridge(Vertx vertx, String host, int internalPort) {
        this.tunnel = new WebSocketTunnel(vertx, "MQTT", host, internalPort);
    }

    /** Lets the HTTPS server negotiate the {@code mqtt} sub-protocol and carry whole MQTT packets per frame. */
    public static HttpServerOptions configure(HttpServerOptions options) {
        return options.setWebSocketSubProtocols(List.of("mqtt"))
                .setMaxWebSocketFrameSize(MAX_FRAME_BYTES)
                .setMaxWebSocketMessageSize(MAX_FRAME_BYTES);
    }

    /** Wraps the REST handler: WebSocket upgrades on {@link #PATH} become MQTT connections, the rest goes on. */
    public Handler<HttpServerRequest> in(Handler<HttpServerRequest> rest) {
        return request -> {
            if (isMqttUpgrade(request)) {
                tunnel.bridge(request);
            } else {
                rest.handle(request);
            }
        };
    }

    /**
     * Wraps the device handler of the internal listener: only this bridge's connections get through, each with the
     * TLS client certificate chain of its WebSocket (null if none), for X.509 devices.
     */
    public Handler<MqttEndpoint> guard(BiConsumer<MqttEndpoint, X509Certificate[]> devices) {
        return endpoint -> {
            SocketAddress remote = endpoint.remoteAddress();
            Optional<X509Certificate[]> certificates = remote == null ? null : tunnel.opened(remote.port());
            if (certificates != null) {
                devices.accept(endpoint, certificates.orElse(null));
            } else {
                LOG.info("Refused an MQTT connection to the internal WebSocket listener not made by the hub ({})", remote);
                endpoint.reject(MqttConnectReturnCode.CONNECTION_REFUSED_NOT_AUTHORIZED);
            }
        };
    }

    static boolean isMqttUpgrade(HttpServerRequest request) {
        String path = request.path();
        return (PATH.equals(path) || "/%24iothub/websocket".equalsIgnoreCase(path)) && request.canUpgradeToWebSocket();
    }

    public Future<Void> close() {
        return tunnel.close();
    }
}
