package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.concurrent.ConnectionCap;
import dev.iotjobs.localhub.model.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Server-side deadlines for the service endpoint, so that a client that sends nothing, half a request or half a
 * body cannot hold a connection (and its buffers) forever:
 * <ul>
 *   <li>headers: a connection must deliver a request's headers within {@code headers} of its start (after TLS)
 *   or of the end of the previous response; otherwise it is closed. An idle keep-alive connection is closed
 *   after the same time.</li>
 *   <li>body: a request's body must be complete within {@code body} of its headers; otherwise the hub answers
 *   408 (IoT Hub's error body) and closes the connection.</li>
 * </ul>
 * While the hub itself works on a request (a direct method may wait minutes for its device) no deadline runs.
 * Everything here runs on the connection's event loop.
 */
public final class HttpDeadlines {
    private final Vertx vertx;
    private final long headersMillis;
    private final long bodyMillis;
    private final Map<HttpConnection, Deadline> connections = new ConcurrentHashMap<>();
    /** Connections over the cap, until their first request is answered 503 (or their headers deadline closes them). */
    private final Map<HttpConnection, Boolean> refused = new ConcurrentHashMap<>();
    private final ConnectionCap cap;

    public HttpDeadlines(Vertx vertx, Duration headers, Duration body) {
        this(vertx, headers, body, new ConnectionCap("HTTPS (443)", "HubLimits.httpsConnections", Integer.MAX_VALUE));
    }

    /** As above, holding at most {@code cap} connections at once (HubLimits.httpsConnections). */
    public HttpDeadlines(Vertx vertx, Duration headers, Duration body, ConnectionCap cap) {
        this.vertx = vertx;
        this.headersMillis = headers.toMillis();
        this.bodyMillis = body.toMillis();
        this.cap = cap;
    }

    /**
     * For {@code HttpServer.connectionHandler}: starts the connection's headers deadline. A connection over the cap
     * is only kept to be told so: its first request is answered 503 ({@link #refuseIfOverCap}) and it is closed, or
     * it is closed at its headers deadline.
     */
    public void onConnection(HttpConnection connection) {
        if (!cap.tryAcquire()) {
            refused.put(connection, Boolean.TRUE);
            long timer = vertx.setTimer(headersMillis, t -> connection.close());
            connection.closeHandler(v -> {
                refused.remove(connection);
                vertx.cancelTimer(timer);
            });
            return;
        }
        Deadline d = new Deadline(connection);
        connections.put(connection, d);
        connection.closeHandler(v -> {
            connections.remove(connection);
            cap.release();
            d.cancel();
        });
        d.awaitHeaders();
    }

    /**
     * In front of every request handler (REST and WebSocket upgrades): true, having answered 503 (ServerBusy, IoT
     * Hub's error body) and closing the connection, when the connection is over the cap.
     */
    public boolean refuseIfOverCap(HttpServerRequest request) {
        if (refused.isEmpty() || !refused.containsKey(request.connection())) {
            return false;
        }
        request.response().putHeader("Connection", "close");
        request.response().endHandler(v -> request.connection().close());
        RestSupport.fail(request, ErrorCode.SERVER_BUSY.exception(cap.refusal()));
        return true;
    }

    /**
     * In front of every request handler: a request asking to become a WebSocket (AMQP or MQTT over WebSockets)
     * stops the connection's deadlines, which are for HTTP requests: once upgraded the connection lives as long as
     * the protocol inside keeps it (AMQP's idle timeout, MQTT's keep-alive), as on IoT Hub. An upgrade the hub
     * routes as an ordinary request gets its deadlines back from {@link #onRequest}.
     */
    public void onUpgradeRequest(HttpServerRequest request) {
        Deadline d = connections.get(request.connection());
        if (d != null) {
            d.cancel();
        }
    }

    /** HTTPS connections admitted and open. */
    public int openConnections() {
        return cap.open();
    }

    /** The router's first handler: the headers have arrived; the body deadline starts, the headers one stops. */
    public void onRequest(RoutingContext ctx) {
        Deadline d = connections.get(ctx.request().connection());
        if (d != null) {
            d.cancel();
            if (!ctx.request().isEnded()) {
                d.timer = vertx.setTimer(bodyMillis, t -> {
                    if (!ctx.request().isEnded() && !ctx.response().ended()) {
                        ctx.response().putHeader("Connection", "close");
                        ctx.response().endHandler(v -> ctx.request().connection().close());
                        RestSupport.fail(ctx, ErrorCode.REQUEST_TIMEOUT.exception("The request body did not arrive within "
                                + bodyMillis + " ms."));
                    }
                });
            }
            ctx.addEndHandler(ar -> d.awaitHeaders());
        }
        ctx.next();
    }

    private final class Deadline {
        private final HttpConnection connection;
        long timer = -1;

        Deadline(HttpConnection connection) {
            this.connection = connection;
        }

        void awaitHeaders() {
            cancel();
            timer = vertx.setTimer(headersMillis, t -> connection.close());
        }

        void cancel() {
            if (timer >= 0) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }
    }
}
