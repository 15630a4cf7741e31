package dev.iotjobs.localhub.rest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;

/**
 * A tiny HTTPS CONNECT proxy that leads every tunnel to the hub's REST port. It exists for machines where
 * port 443 cannot be bound: the service SDK always dials port 443, but honours {@code https.proxyHost}
 * and {@code https.proxyPort}, and then runs TLS to the hub through this tunnel, so certificate checks
 * stay exactly as against a real hub.
 */
public final class ConnectProxy {
    private static final int MAX_HEADER_BYTES = 8 * 1024;
    private final Vertx vertx;
    private final String targetHost;
    private final int targetPort;
    private NetServer server;
    private NetClient client;

    public ConnectProxy(Vertx vertx, String targetHost, int targetPort) {
        this.vertx = vertx;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
    }

    public Future<Integer> listen(String host, int port) {
        client = vertx.createNetClient();
        server = vertx.createNetServer().connectHandler(this::onConnection);
        return server.listen(port, host).map(NetServer::actualPort);
    }

    private void onConnection(NetSocket socket) {
        Buffer header = Buffer.buffer();
        socket.handler(chunk -> {
            header.appendBuffer(chunk);
            String text = header.toString(StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                if (header.length() > MAX_HEADER_BYTES) {
                    socket.close();
                }
                return;
            }
            socket.handler(null);
            socket.pause();
            if (!text.startsWith("CONNECT ")) {
                socket.write("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n").onComplete(v -> socket.close());
                return;
            }
            Buffer early = header.getBuffer(end + 4, header.length());
            client.connect(targetPort, targetHost).onComplete(ar -> {
                if (ar.failed()) {
                    socket.write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").onComplete(v -> socket.close());
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

    public Future<Void> close() {
        Future<Void> f = server == null ? Future.succeededFuture() : server.close();
        return f.compose(v -> client == null ? Future.succeededFuture() : client.close());
    }

}
