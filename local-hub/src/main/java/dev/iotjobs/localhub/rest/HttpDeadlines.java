package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.model.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
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

    public HttpDeadlines(Vertx vertx, Duration headers, Duration body) {
        this.vertx = vertx;
        this.headersMillis = headers.toMillis();
        this.bodyMillis = body.toMillis();
    }

    /** For {@code HttpServer.connectionHandler}: starts the connection's headers deadline. */
    public void onConnection(HttpConnection connection) {
        Deadline d = new Deadline(connection);
        connections.put(connection, d);
        connection.closeHandler(v -> {
            connections.remove(connection);
            d.cancel();
        });
        d.awaitHeaders();
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
