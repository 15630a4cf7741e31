package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.device.ModuleService;
import dev.iotjobs.localhub.method.MethodRequest;
import dev.iotjobs.localhub.method.ModuleMethodService;
import dev.iotjobs.localhub.model.ErrorCode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Modules: identities ({@code /devices/{id}/modules[/{moduleId}]}), twins ({@code /twins/{id}/modules/{moduleId}})
 * and direct methods ({@code /twins/{id}/modules/{moduleId}/methods}), with the permissions of their device
 * counterparts.
 */
final class ModulesRoutes {
    private final RestSupport rest;
    private final ModuleService modules;
    private final ModuleMethodService methods;

    ModulesRoutes(RestSupport rest, ModuleService modules, ModuleMethodService methods) {
        this.rest = rest;
        this.modules = modules;
        this.methods = methods;
    }

    void register(Router router) {
        router.get("/devices/:id/modules").handler(this::list);
        router.get("/devices/:id/modules/:mid").handler(this::get);
        router.put("/devices/:id/modules/:mid").handler(this::put);
        router.delete("/devices/:id/modules/:mid").handler(this::delete);
        router.post("/twins/:id/modules/:mid/methods").handler(this::invokeMethod);
        router.get("/twins/:id/modules/:mid").handler(this::getTwin);
        router.patch("/twins/:id/modules/:mid").handler(this::patchTwin);
        // The JDK has no PATCH, so the Java SDK sends POST with X-HTTP-Method-Override: PATCH.
        router.post("/twins/:id/modules/:mid").handler(ctx -> {
            if ("PATCH".equalsIgnoreCase(ctx.request().getHeader("X-HTTP-Method-Override"))) {
                patchTwin(ctx);
            } else {
                RestSupport.fail(ctx, ErrorCode.METHOD_NOT_ALLOWED.exception("POST /twins/{id}/modules/{moduleId} "
                        + "needs X-HTTP-Method-Override: PATCH."));
            }
        });
        router.put("/twins/:id/modules/:mid").handler(this::replaceTwin);
    }

    private void list(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_READ)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> modules.list(id));
        }
    }

    private void get(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_READ)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            rest.respond(ctx, () -> modules.get(id, mid));
        }
    }

    private void put(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_WRITE)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> modules.put(id, mid, RestSupport.bodyObject(ctx), ifMatch));
        }
    }

    private void delete(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_WRITE)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> {
                modules.delete(id, mid, ifMatch);
                return null;
            }, (c, none) -> c.response().setStatusCode(204).end());
        }
    }

    private void getTwin(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_READ, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            rest.respond(ctx, () -> modules.getTwin(id, mid));
        }
    }

    private void patchTwin(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> modules.patchTwin(id, mid, RestSupport.bodyObject(ctx), ifMatch));
        }
    }

    private void replaceTwin(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> modules.replaceTwin(id, mid, RestSupport.bodyObject(ctx), ifMatch));
        }
    }

    private void invokeMethod(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            String mid = ctx.pathParam("mid");
            rest.respondWhenDone(ctx, () -> methods.invoke(id, mid, MethodRequest.fromJson(RestSupport.bodyJson(ctx))),
                    TwinsRoutes::sendMethodResponse);
        }
    }
}
