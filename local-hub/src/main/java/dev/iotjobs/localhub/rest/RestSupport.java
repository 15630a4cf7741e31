package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.auth.ServiceAuthenticator;
import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.json.ErrorJson;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * What every REST route shares: api-version and SAS checks, running core calls off the event loop, and
 * the one mapping of {@link HubException} to IoT Hub's error body.
 */
public final class RestSupport {
    private static final Logger LOG = LoggerFactory.getLogger(RestSupport.class);
    /** Service API versions IoT Hub serves for these routes (GA versions since 2016). */
    static final Set<String> API_VERSIONS = Set.of("2016-11-14", "2017-06-30", "2018-01-26", "2018-04-01",
            "2018-06-30", "2019-03-30", "2019-10-01", "2020-03-13", "2020-06-30", "2020-09-30", "2021-04-12");

    private final ServiceAuthenticator authenticator;
    private final WorkerExecutor workers;

    public RestSupport(ServiceAuthenticator authenticator, WorkerExecutor workers) {
        this.authenticator = authenticator;
        this.workers = workers;
    }

    /** Checks api-version and the SAS token's permission; on failure answers the request and returns false. */
    boolean admit(RoutingContext ctx, Permission... anyOf) {
        try {
            String apiVersion = ctx.request().getParam("api-version");
            if (apiVersion == null) {
                throw ErrorCode.INVALID_PROTOCOL_VERSION.exception("The api-version query parameter is required.");
            }
            if (!API_VERSIONS.contains(apiVersion)) {
                throw ErrorCode.INVALID_PROTOCOL_VERSION.exception("api-version '" + apiVersion
                        + "' is not supported; use 2021-04-12.");
            }
            authenticator.authorize(ctx.request().getHeader("Authorization"), ctx.request().path(), anyOf);
            return true;
        } catch (HubException e) {
            fail(ctx, e);
            return false;
        }
    }

    /** Runs a core call on the worker pool and answers 200 with its JSON (or the mapped error). */
    void respond(RoutingContext ctx, Callable<? extends JsonNode> call) {
        respond(ctx, call, (c, body) -> json(c, 200, body));
    }

    /**
     * Runs a core call on the worker pool and answers with {@code send}; a failure of either (the call, or
     * a check made while sending, such as a bad paging header) is answered with the mapped error.
     */
    <T> void respond(RoutingContext ctx, Callable<T> call, BiConsumer<RoutingContext, T> send) {
        blocking(call).onComplete(ar -> {
            if (ar.failed()) {
                fail(ctx, ar.cause());
                return;
            }
            try {
                send.accept(ctx, ar.result());
            } catch (RuntimeException e) {
                fail(ctx, e);
            }
        });
    }

    /**
     * Answers once an asynchronous core call completes (no worker thread waits for it), back on the request's
     * event loop; a failure to start the call, of the call, or while sending is answered with the mapped error.
     */
    <T> void respondWhenDone(RoutingContext ctx, Supplier<CompletableFuture<T>> call, BiConsumer<RoutingContext, T> send) {
        Context context = Vertx.currentContext();
        CompletableFuture<T> pending;
        try {
            pending = call.get();
        } catch (RuntimeException e) {
            fail(ctx, e);
            return;
        }
        pending.whenComplete((result, failure) -> context.runOnContext(v -> {
            if (failure != null) {
                fail(ctx, Futures.unwrap(failure));
                return;
            }
            try {
                send.accept(ctx, result);
            } catch (RuntimeException e) {
                fail(ctx, e);
            }
        }));
    }

    <T> Future<T> blocking(Callable<T> call) {
        return workers.executeBlocking(call, false);
    }

    static void json(RoutingContext ctx, int status, JsonNode body) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status)
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .end(Buffer.buffer(Json.bytes(body)));
    }

    static ObjectNode bodyObject(RoutingContext ctx) {
        return Json.parseObject(ctx.body().buffer() == null ? null : ctx.body().buffer().getBytes());
    }

    static JsonNode bodyJson(RoutingContext ctx) {
        return Json.parse(ctx.body().buffer() == null ? null : ctx.body().buffer().getBytes());
    }

    /**
     * IoT Hub's error body: a {@code Message} holding the JSON with the numeric {@code errorCode}, an empty
     * {@code ExceptionMessage} (a non-empty one would hide the code from the Java SDK), and the symbolic
     * code in the {@code iothub-errorcode} header.
     */
    static void fail(RoutingContext ctx, Throwable failure) {
        fail(ctx.request(), failure);
    }

    /** {@link #fail(RoutingContext, Throwable)} for requests that never reach the router (HTTP-layer refusals). */
    static void fail(HttpServerRequest request, Throwable failure) {
        HubException e;
        if (failure instanceof HubException h) {
            e = h;
        } else {
            LOG.error("Unexpected failure serving {} {}", request.method(), request.path(), failure);
            e = ErrorCode.SERVER_ERROR.exception("The local hub hit an internal error; see its log.");
        }
        HttpServerResponse response = request.response();
        if (response.ended()) {
            return;
        }
        response.putHeader("iothub-errorcode", e.errorCode().codeName());
        response.setStatusCode(e.errorCode().httpStatus())
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .end(Buffer.buffer(Json.bytes(errorBody(e))));
    }

    /** IoT Hub's error body for a refusal: {@code {"Message":"{\"errorCode\":...}","ExceptionMessage":""}}. */
    public static ObjectNode errorBody(HubException e) {
        ObjectNode outer = Json.object();
        outer.put("Message", Json.string(ErrorJson.of(e)));
        outer.put("ExceptionMessage", "");
        return outer;
    }
}
