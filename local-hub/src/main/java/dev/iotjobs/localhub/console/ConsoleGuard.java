package dev.iotjobs.localhub.console;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * What every console request must pass before it reaches a page or the hub:
 * <ul>
 *   <li>it comes from this machine (loopback peer) and names the console itself in {@code Host}
 *       ({@code 127.0.0.1:port} or {@code localhost:port}), so a web page whose DNS name was rebound to
 *       127.0.0.1 cannot use the console;</li>
 *   <li>an {@code /api} call carries {@value #API_HEADER}, a header no cross-site form or simple request can
 *       send (fetch would need a CORS preflight, which the console never grants), and, when the browser
 *       sends them, an {@code Origin} equal to the console's own and {@code Sec-Fetch-Site: same-origin}.
 *       That makes the write actions CSRF-safe without cookies or tokens in the page.</li>
 * </ul>
 * Every answer also carries headers that keep the pages out of frames and other origins' scripts.
 */
final class ConsoleGuard {
    static final String API_HEADER = "X-Console-Request";
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private ConsoleGuard() {
    }

    static void admitLoopbackHost(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        ctx.response().putHeader("Content-Security-Policy", CSP)
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Referrer-Policy", "no-referrer")
                .putHeader("Cache-Control", "no-store");
        if (!isLoopback(request.remoteAddress())) {
            refuse(ctx, 403, "The console answers only requests from this machine.");
        } else if (!isConsoleHost(request.authority(), request.localAddress().port())) {
            refuse(ctx, 421, "The console answers only requests for 127.0.0.1:" + request.localAddress().port()
                    + " or localhost:" + request.localAddress().port() + ".");
        } else {
            ctx.next();
        }
    }

    static void admitApiCall(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String origin = request.getHeader("Origin");
        String site = request.getHeader("Sec-Fetch-Site");
        if (!"1".equals(request.getHeader(API_HEADER))) {
            refuse(ctx, 403, "Console API calls need the " + API_HEADER + ": 1 header (the console's pages send it).");
        } else if (origin != null && !origin.equals("http://" + request.authority())) {
            refuse(ctx, 403, "Cross-origin console API calls are refused (Origin " + origin + ").");
        } else if (site != null && !site.equals("same-origin")) {
            refuse(ctx, 403, "Cross-site console API calls are refused (Sec-Fetch-Site " + site + ").");
        } else {
            ctx.next();
        }
    }

    /** Answers with the console's own error body, {@code {"message": ...}}. */
    static void refuse(RoutingContext ctx, int status, String message) {
        if (!ctx.response().ended()) {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json; charset=utf-8")
                    .end(new JsonObject().put("message", message).encode());
        }
    }

    /** The Host header (HTTP/1.1) or :authority (HTTP/2) names the console: 127.0.0.1 or localhost, its port. */
    static boolean isConsoleHost(HostAndPort authority, int port) {
        if (authority == null) {
            return false;
        }
        String host = authority.host().toLowerCase(Locale.ROOT);
        int named = authority.port() < 0 ? 80 : authority.port();
        return named == port && (host.equals("127.0.0.1") || host.equals("localhost"));
    }

    private static boolean isLoopback(SocketAddress address) {
        if (address == null || address.hostAddress() == null) {
            return false;
        }
        try {
            return InetAddress.getByName(address.hostAddress()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
