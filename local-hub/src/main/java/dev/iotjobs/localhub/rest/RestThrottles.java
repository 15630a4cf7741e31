package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.throttle.Operation;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/**
 * Tier emulation on the service endpoint: sorts each request into IoT Hub's operation class and asks
 * {@link HubThrottles} whether it may proceed now, later (the request waits, no thread does) or not at all
 * (429001 ThrottlingException / 403002 IotHubQuotaExceeded in IoT Hub's error body). Without a tier every
 * request passes straight through.
 */
final class RestThrottles {
    private final Vertx vertx;
    private final HubThrottles throttles;

    RestThrottles(Vertx vertx, HubThrottles throttles) {
        this.vertx = vertx;
        this.throttles = throttles;
    }

    void handle(RoutingContext ctx) {
        // The console's own polling (every second) would use up an S1 hub's queries; it is not counted.
        if (!throttles.enabled() || ctx.request().getHeader(HubThrottles.CONSOLE_CALL_HEADER) != null) {
            ctx.next();
            return;
        }
        Operation op = classify(ctx.request().method(), ctx.request().path());
        if (op == null) {
            ctx.next();
            return;
        }
        long delay;
        try {
            int bodyBytes = ctx.body() == null || ctx.body().buffer() == null ? 0 : ctx.body().buffer().length();
            // Direct methods are metered per started 4 KB of the request payload.
            delay = throttles.admit(op, op == Operation.DIRECT_METHODS ? Math.max(1, (bodyBytes + 4095) / 4096) : 1);
            if (metered(op)) {
                throttles.charge(throttles.meteredMessages(bodyBytes));
            }
        } catch (RuntimeException e) {
            RestSupport.fail(ctx, e);
            return;
        }
        if (delay == 0) {
            ctx.next();
        } else {
            vertx.setTimer(delay, id -> ctx.next());
        }
    }

    /** What the daily quota meters (the pricing page): twin reads and updates, methods, queries of twins. */
    private static boolean metered(Operation op) {
        return op == Operation.TWIN_READS || op == Operation.TWIN_UPDATES || op == Operation.DIRECT_METHODS
                || op == Operation.QUERIES;
    }

    /** IoT Hub's operation class of a service request, or null for requests no throttle covers. */
    static Operation classify(HttpMethod method, String path) {
        if (path.startsWith("/jobs/")) {
            return Operation.JOBS_OPERATIONS;
        }
        if (path.equals("/devices/query")) {
            return Operation.QUERIES;
        }
        if (path.startsWith("/twins/")) {
            if (path.endsWith("/methods")) {
                return Operation.DIRECT_METHODS;
            }
            return method == HttpMethod.GET ? Operation.TWIN_READS : Operation.TWIN_UPDATES;
        }
        if (path.equals("/devices") || path.startsWith("/devices/") || path.startsWith("/statistics/")) {
            return Operation.IDENTITY_REGISTRY;
        }
        return null;
    }
}
