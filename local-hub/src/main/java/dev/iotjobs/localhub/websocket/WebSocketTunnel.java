package dev.iotjobs.localhub.websocket;

import dev.iotjobs.localhub.tls.DeviceCertificates;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A device protocol over WebSockets on the hub's HTTPS port, as IoT Hub serves MQTT ({@code mqtt}) and AMQP
 * ({@code AMQPWSB10}) on {@code wss://<host>:443/$iothub/websocket}: each upgraded WebSocket is piped (binary frames
 * to bytes and back, with back-pressure both ways) to the protocol's plain-TCP listener on a loopback port, so a
 * WebSocket client gets exactly the checks, sessions and limits of the protocol's own port, and the TLS, the
 * certificate and the CONNECT-proxy fallback of the HTTPS port.
 * <p>
 * The internal listener has no TLS, so it must admit only the connections a tunnel opened: {@link #opened} tells
 * them apart by the port they come from, and hands over the WebSocket's TLS client certificates (X.509 devices).
 */
public final class WebSocketTunnel {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTunnel.class);

    private final String protocol;
    private final String host;
    private final int internalPort;
    private final NetClient client;
    /** This tunnel's connections to the internal listener (by local port): the WebSocket's client certificates. */
    private final Map<Integer, Optional<X509Certificate[]>> bridged = new ConcurrentHashMap<>();

    /**
     * @param protocol     the protocol's name, for log lines ({@code MQTT}, {@code AMQP})
     * @param host         the internal listener's (loopback) address
     * @param internalPort the internal plain-TCP listener's port
     */
    public WebSocketTunnel(Vertx vertx, String protocol, String host, int internalPort) {
        this.protocol = protocol;
        this.host = host;
        this.internalPort = internalPort;
        this.client = vertx.createNetClient();
    }

    /** Upgrades the request and pipes the WebSocket to the internal listener (nothing is read before that is open). */
    public void bridge(HttpServerRequest request) {
        request.toWebSocket().onComplete(upgraded -> {
            if (upgraded.failed()) {
                LOG.debug("{} WebSocket upgrade failed: {}", protocol, upgraded.cause().toString());
                return;
            }
            ServerWebSocket ws = upgraded.result();
            ws.pause();
            client.connect(internalPort, host).onComplete(connected -> {
                if (connected.failed()) {
                    LOG.warn("{} WebSocket: cannot reach the internal {} listener", protocol, protocol, connected.cause());
                    ws.close((short) 1011, protocol + " endpoint unavailable");
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
                ws.exceptionHandler(e -> LOG.debug("{} WebSocket failed: {}", protocol, e.toString()));
                ws.pipeTo(socket);
                socket.pipeTo(ws);
            });
        });
    }

    /**
     * For the internal listener: the WebSocket's TLS client certificate chain (empty if none) of a connection this
     * tunnel opened from {@code remotePort}, or null for a connection it did not open (to be refused).
     */
    public Optional<X509Certificate[]> opened(int remotePort) {
        return bridged.get(remotePort);
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
