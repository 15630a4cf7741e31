package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.concurrent.ConnectionCap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A tiny HTTPS CONNECT proxy that leads every tunnel to the hub's REST port. It exists for machines where
 * port 443 cannot be bound: the service SDK always dials port 443, but honours {@code https.proxyHost}
 * and {@code https.proxyPort}, and then runs TLS to the hub through this tunnel, so certificate checks
 * stay exactly as against a real hub.
 * <p>
 * Its bounds: at most {@code cap} connections at once (more are answered 503 and closed); a connection must send
 * its CONNECT request within {@code connectTimeout} (else 408 and close). Once a tunnel is up, the HTTPS endpoint
 * behind it applies its own deadlines (TLS handshake, request headers, idle keep-alive, WebSocket heartbeats) and
 * its close ends the tunnel, so a tunnel is held no longer than a direct connection to 443 would be.
 */
public final class ConnectProxy {
    private static final int MAX_HEADER_BYTES = 8 * 1024;
    private final Vertx vertx;
    private final String targetHost;
    private final int targetPort;
    private final ConnectionCap cap;
    private final long connectTimeoutMillis;
    private NetServer server;
    private NetClient client;

    public ConnectProxy(Vertx vertx, String targetHost, int targetPort) {
        this(vertx, targetHost, targetPort, new ConnectionCap("CONNECT proxy", "HubLimits.proxyConnections",
                Integer.MAX_VALUE), Duration.ofSeconds(20));
    }

    /**
     * @param cap            tunnels held at once (HubLimits.proxyConnections)
     * @param connectTimeout time from the TCP connection to the end of the CONNECT request (HubLimits.proxyConnectTimeout)
     */
    public ConnectProxy(Vertx vertx, String targetHost, int targetPort, ConnectionCap cap, Duration connectTimeout) {
        this.vertx = vertx;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.cap = cap;
        this.connectTimeoutMillis = connectTimeout.toMillis();
    }

    public Future<Integer> listen(String host, int port) {
        client = vertx.createNetClient();
        server = vertx.createNetServer().connectHandler(this::onConnection);
        return server.listen(port, host).map(NetServer::actualPort);
    }

    /** Tunnels admitted and open. */
    public int openConnections() {
        return cap.open();
    }

    private void onConnection(NetSocket socket) {
        boolean admitted = cap.tryAcquire();
        // A connection that never completes its CONNECT request is told so and closed.
        long deadline = vertx.setTimer(connectTimeoutMillis, t -> answerAndClose(socket, "408 Request Timeout",
                "No CONNECT request arrived within " + connectTimeoutMillis + " ms."));
        socket.closeHandler(v -> {
            vertx.cancelTimer(deadline);
            if (admitted) {
                cap.release();
            }
        });
        Buffer header = Buffer.buffer();
        socket.handler(chunk -> {
            header.appendBuffer(chunk);
            String text = header.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                if (header.length() > MAX_HEADER_BYTES) {
                    vertx.cancelTimer(deadline);
                    answerAndClose(socket, "431 Request Header Fields Too Large",
                            "The CONNECT request is larger than " + MAX_HEADER_BYTES + " bytes.");
                }
                return;
            }
            vertx.cancelTimer(deadline);
            socket.handler(null);
            socket.pause();
            if (!admitted) {
                // The request is read first, so that the client is listening when the answer comes.
                answerAndClose(socket, "503 Service Unavailable", cap.refusal());
                return;
            }
            if (!text.startsWith("CONNECT ")) {
                answerAndClose(socket, "405 Method Not Allowed", "This proxy only tunnels CONNECT requests to the hub.");
                return;
            }
            Buffer early = header.getBuffer(end + 4, header.length());
            client.connect(targetPort, targetHost).onComplete(ar -> {
                if (ar.failed()) {
                    answerAndClose(socket, "502 Bad Gateway", "The hub's HTTPS endpoint cannot be reached.");
                    return;
                }
                NetSocket upstream = ar.result();
                socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
                if (early.length() > 0) {
                    upstream.write(early);
                }
                socket.pipeTo(upstream);
                upstream.pipeTo(socket);
            });
        });
    }

    /** An HTTP answer with a one-line text body, then close. */
    private static void answerAndClose(NetSocket socket, String status, String message) {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        socket.write("HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                        + body.length + "\r\nConnection: close\r\n\r\n")
                .compose(v -> socket.write(Buffer.buffer(body)))
                .onComplete(v -> socket.close());
    }

    public Future<Void> close() {
        return shutdown(Duration.ZERO);
    }

    /**
     * Stops accepting at once and ends the tunnels after {@code grace}, like the hub's other listeners when it stops:
     * a client whose CONNECT the proxy accepted but could not tunnel would get 502, which the device SDK does not
     * retry, where a refused connection is retried.
     */
    public Future<Void> shutdown(Duration grace) {
        Future<Void> f = server == null ? Future.succeededFuture() : server.shutdown(grace.toMillis(), TimeUnit.MILLISECONDS);
        return f.compose(v -> client == null ? Future.succeededFuture() : client.close());
    }

}
