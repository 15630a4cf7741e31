package dev.iotjobs.localhub.console;

import dev.iotjobs.localhub.concurrent.ConnectionCap;
import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.throttle.Operation;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Locale;

/**
 * The hub's web console: static pages from the jar and {@code /api/...}, a loopback-only bridge to the hub's
 * own REST API. The console holds no data and no rights of its own: every {@code /api} call is forwarded to
 * the REST endpoint with a SAS token of a shared access policy (iothubowner for the command-line hub), which
 * the hub's own authenticator checks exactly as for the service SDK; the key stays in this JVM.
 * <p>
 * It listens on {@value #HOST} only, whatever address the hub's other endpoints use. See docs/console.md.
 */
public final class ConsoleServer {
    /** The console is never reachable from another machine: it acts with the policy's rights. */
    public static final String HOST = "127.0.0.1";
    /** Larger than any body the pages send (a twin patch, a method payload, a job). */
    private static final long MAX_BODY_BYTES = 512 * 1024;

    private final HttpServer server;
    private final HubApiBridge bridge;

    private ConsoleServer(HttpServer server, HubApiBridge bridge) {
        this.server = server;
        this.bridge = bridge;
    }

    /**
     * Where the hub's REST API is and which policy the console acts with.
     *
     * @param restHost   address of the REST endpoint (HTTPS)
     * @param restPort   its port
     * @param caPem      the development CA that signed the REST endpoint's certificate
     * @param hubName    the host name SAS tokens are signed for
     * @param policyName shared access policy the console acts with
     * @param policyKey  that policy's key (used here to sign tokens; never sent to a browser)
     */
    public record Target(String restHost, int restPort, Path caPem, String hubName, String policyName,
                         String policyKey) {
    }

    /** Starts the console on {@value #HOST}:{@code port} (0: any free port); the future fails if it cannot bind. */
    public static Future<ConsoleServer> start(Vertx vertx, Target target, int port) {
        return start(vertx, target, port, HubThrottles.none());
    }

    /** As {@link #start(Vertx, Target, int)}, showing the hub's tier and its jobs pace ({@code GET /api/local/tier}). */
    public static Future<ConsoleServer> start(Vertx vertx, Target target, int port, HubThrottles throttles) {
        return start(vertx, target, port, throttles, new ConnectionCap("web console", "HubLimits.consoleConnections",
                Integer.MAX_VALUE));
    }

    /**
     * As above, holding at most {@code cap} browser connections at once: the first request of a connection over it
     * is answered 503 and the connection closed (an idle one is closed by the idle timeout).
     */
    public static Future<ConsoleServer> start(Vertx vertx, Target target, int port, HubThrottles throttles,
                                              ConnectionCap cap) {
        HubApiBridge bridge = new HubApiBridge(vertx, target);
        StaticFiles files = StaticFiles.load("console");
        Router router = Router.router(vertx);
        router.route().handler(ConsoleGuard::admitLoopbackHost);
        router.route("/api/*").handler(ConsoleGuard::admitApiCall);
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.get("/api/local/tier").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/json; charset=utf-8").end(tierJson(throttles)));
        bridge.register(router);
        router.get("/*").handler(files::serve);
        router.route().last().handler(ctx -> ConsoleGuard.refuse(ctx, 404, "Not found: " + ctx.request().path()));
        // Browsers keep connections open between polls; one that stays idle for a minute is closed.
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(HOST).setPort(port).setIdleTimeout(60));
        Set<HttpConnection> refused = ConcurrentHashMap.newKeySet();
        server.connectionHandler(connection -> {
            if (cap.tryAcquire()) {
                connection.closeHandler(v -> cap.release());
            } else {
                refused.add(connection);
                connection.closeHandler(v -> refused.remove(connection));
            }
        });
        return server.requestHandler(request -> {
                    if (!refused.isEmpty() && refused.contains(request.connection())) {
                        request.response().setStatusCode(503).putHeader("Connection", "close")
                                .putHeader("Content-Type", "application/json; charset=utf-8")
                                .end(new JsonObject().put("message", cap.refusal()).encode())
                                .onComplete(v -> request.connection().close());
                    } else {
                        router.handle(request);
                    }
                }).listen()
                .map(s -> new ConsoleServer(s, bridge))
                .onFailure(e -> bridge.close());
    }

    /** The tier the pages show: {"tier":null} without one. */
    static String tierJson(HubThrottles t) {
        if (!t.enabled()) {
            return "{\"tier\":null}";
        }
        return String.format(Locale.ROOT, "{\"tier\":\"%s\",\"units\":%d,\"describe\":\"%s\","
                        + "\"jobDeviceOperationsPerSecond\":%.3f,\"maxActiveJobs\":%d}", t.tier(), t.units(), t.describe(),
                t.perSecond(Operation.JOB_DEVICE_OPERATIONS), t.maxActiveJobs(0));
    }

    public int port() {
        return server.actualPort();
    }

    /** The address to open in a browser. */
    public String url() {
        return "http://" + HOST + ":" + port() + "/";
    }

    public Future<Void> close() {
        return server.close().eventually(bridge::close);
    }
}
