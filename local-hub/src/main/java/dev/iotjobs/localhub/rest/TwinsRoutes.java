package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.MethodRequest;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.method.MethodService;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.device.TwinService;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** Twins (/twins/{id}) and direct methods (/twins/{id}/methods). */
final class TwinsRoutes {
    private final RestSupport rest;
    private final TwinService twins;
    private final MethodService methods;

    TwinsRoutes(RestSupport rest, TwinService twins, MethodService methods) {
        this.rest = rest;
        this.twins = twins;
        this.methods = methods;
    }

    void register(Router router) {
        router.post("/twins/:id/methods").handler(this::invokeMethod);
        router.get("/twins/:id").handler(this::get);
        router.patch("/twins/:id").handler(this::patch);
        // The JDK has no PATCH, so the Java SDK sends POST with X-HTTP-Method-Override: PATCH.
        router.post("/twins/:id").handler(ctx -> {
            if ("PATCH".equalsIgnoreCase(ctx.request().getHeader("X-HTTP-Method-Override"))) {
                patch(ctx);
            } else {
                RestSupport.fail(ctx, ErrorCode.METHOD_NOT_ALLOWED.exception("POST /twins/{id} needs "
                        + "X-HTTP-Method-Override: PATCH."));
            }
        });
        router.put("/twins/:id").handler(this::replace);
    }

    private void get(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_READ, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> twins.get(id));
        }
    }

    private void patch(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> twins.patch(id, RestSupport.bodyObject(ctx), ifMatch));
        }
    }

    private void replace(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> twins.replace(id, RestSupport.bodyObject(ctx), ifMatch));
        }
    }

    private void invokeMethod(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respondWhenDone(ctx, () -> methods.invoke(id, MethodRequest.fromJson(RestSupport.bodyJson(ctx))),
                    TwinsRoutes::sendMethodResponse);
        }
    }

    /** The device's answer as IoT Hub relays it: its status and payload. */
    static void sendMethodResponse(RoutingContext ctx, MethodResponse response) {
        ObjectNode body = Json.object();
        body.put("status", response.status());
        body.set("payload", response.payload());
        RestSupport.json(ctx, 200, body);
    }
}
