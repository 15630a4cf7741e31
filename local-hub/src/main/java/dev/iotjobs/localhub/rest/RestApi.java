package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.device.ModuleService;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.device.TwinService;
import dev.iotjobs.localhub.jobs.JobService;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.method.ModuleMethodService;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.query.QueryService;
import dev.iotjobs.localhub.throttle.HubThrottles;
import dev.iotjobs.localhub.model.HubException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The service-facing REST API, assembled in one place. Each resource group has its own routes class;
 * the stages every request passes are: body (size-limited) -> tier throttles (off by default) -> route -> api-version + SAS check -> core
 * call on the worker pool -> JSON or IoT Hub error body.
 */
public final class RestApi {
    /** Larger than any valid request (128 KB method payload, 32 KB + 8 KB twin); bigger bodies get 413. */
    private static final long MAX_BODY_BYTES = 512 * 1024;
    /** The HTTP layer's limits (Vert.x's defaults, stated here so that the refusals can name them). */
    public static final int MAX_REQUEST_LINE_BYTES = 4096;
    public static final int MAX_HEADER_BYTES = 8192;

    private RestApi() {
    }

    public static Router router(Vertx vertx, RestSupport rest, HubThrottles throttles, RouteGroup... groups) {
        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.route().handler(RestApi::checkQueryString);
        router.route().handler(new RestThrottles(vertx, throttles)::handle);
        for (RouteGroup group : groups) {
            group.register(router);
        }
        router.route().last().handler(ctx -> RestSupport.fail(ctx, ErrorCode.NOT_FOUND.exception(
                "The local hub does not serve " + ctx.request().method() + " " + ctx.request().path()
                        + " (see docs/local-hub.md for what is emulated).")));
        router.errorHandler(405, ctx -> RestSupport.fail(ctx, ErrorCode.METHOD_NOT_ALLOWED.exception(
                ctx.request().method() + " is not allowed on " + ctx.request().path() + ".")));
        router.errorHandler(413, ctx -> RestSupport.fail(ctx, ErrorCode.MESSAGE_TOO_LARGE.exception(
                "The request body is larger than " + MAX_BODY_BYTES / 1024 + " KB.")));
        router.errorHandler(400, ctx -> RestSupport.fail(ctx, ErrorCode.GENERIC_BAD_REQUEST.exception(
                "Bad request.")));
        router.errorHandler(500, ctx -> RestSupport.fail(ctx, ctx.failure() == null
                ? ErrorCode.SERVER_ERROR.exception("Internal error.") : ctx.failure()));
        return router;
    }

    /**
     * A query string with a bad escape ({@code %}, {@code %zz}) is the client's fault: 400 before any route
     * reads a parameter (Vert.x decodes parameters lazily and would throw inside the route).
     */
    private static void checkQueryString(RoutingContext ctx) {
        try {
            ctx.request().params();
            ctx.queryParams();
        } catch (IllegalArgumentException e) {
            RestSupport.fail(ctx, ErrorCode.GENERIC_BAD_REQUEST.exception(
                    "The query string is not validly percent-encoded: " + e.getMessage()));
            return;
        }
        ctx.next();
    }

    /**
     * Requests the HTTP layer refuses before routing (request line over 4 KB: 414; headers over 8 KB: 431;
     * anything it cannot parse: 400) get IoT Hub's error body like every other refusal. Vert.x closes the
     * connection after the answer, which the hub makes a lingering close: the rest of the request (the client
     * may still be sending kilobytes of it) is read and discarded, so that the client reads the answer instead
     * of a reset.
     */
    public static void invalidRequest(HttpServerRequest request) {
        DecoderResult result = request.decoderResult();
        Throwable cause = result == null ? null : result.cause();
        String detail = cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")";
        HubException refusal = ErrorCode.GENERIC_BAD_REQUEST.exception("The request is not valid HTTP" + detail + ".");
        if (cause instanceof TooLongFrameException) {
            String message = String.valueOf(cause.getMessage());
            if (message.startsWith("An HTTP line is larger than")) {
                refusal = ErrorCode.REQUEST_URI_TOO_LONG.exception("The request line is longer than "
                        + MAX_REQUEST_LINE_BYTES + " bytes.");
            } else if (message.startsWith("HTTP header is larger than")) {
                refusal = ErrorCode.REQUEST_HEADERS_TOO_LARGE.exception("The request headers are larger than "
                        + MAX_HEADER_BYTES + " bytes.");
            }
        }
        LingeringClose.arm(request.connection());
        request.response().putHeader("Connection", "close");
        RestSupport.fail(request, refusal);
    }

    /** A set of routes for one resource group. */
    @FunctionalInterface
    public interface RouteGroup {
        void register(Router router);
    }

    public static RouteGroup devices(RestSupport rest, RegistryService registry) {
        return new DevicesRoutes(rest, registry)::register;
    }

    public static RouteGroup cloudToDevice(RestSupport rest, dev.iotjobs.localhub.c2d.C2dQueues queues) {
        return new CloudToDeviceRoutes(rest, queues)::register;
    }

    /** The hub's own read of its built-in endpoint, for the console ({@code /local-hub/telemetry}). */
    public static RouteGroup telemetry(RestSupport rest, dev.iotjobs.localhub.telemetry.RecentTelemetry telemetry) {
        return new TelemetryRoutes(rest, telemetry)::register;
    }

    public static RouteGroup queries(RestSupport rest, QueryService queries) {
        return new QueryRoutes(rest, queries)::register;
    }

    public static RouteGroup jobs(RestSupport rest, JobService jobs) {
        return new JobsRoutes(rest, jobs)::register;
    }

    public static RouteGroup modules(RestSupport rest, ModuleService modules, ModuleMethodService methods) {
        return new ModulesRoutes(rest, modules, methods)::register;
    }

    public static RouteGroup twins(RestSupport rest, TwinService twins,
                                   MethodService methods) {
        return new TwinsRoutes(rest, twins, methods)::register;
    }
}
