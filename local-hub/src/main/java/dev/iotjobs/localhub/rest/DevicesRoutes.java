package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.model.ErrorCode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** Identity registry: /devices/{id} and /statistics/devices. */
final class DevicesRoutes {
    private final RestSupport rest;
    private final RegistryService registry;

    DevicesRoutes(RestSupport rest, RegistryService registry) {
        this.rest = rest;
        this.registry = registry;
    }

    void register(Router router) {
        router.get("/statistics/devices").handler(this::statistics);
        router.post("/devices").handler(this::bulk);
        router.get("/devices/:id").handler(this::get);
        router.put("/devices/:id").handler(this::put);
        router.delete("/devices/:id").handler(this::delete);
    }

    private void get(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_READ)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> registry.get(id));
        }
    }

    private void put(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_WRITE)) {
            String id = ctx.pathParam("id");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> registry.put(id, RestSupport.bodyObject(ctx), ifMatch));
        }
    }

    private void delete(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_WRITE)) {
            String id = ctx.pathParam("id");
            String ifMatch = ctx.request().getHeader("If-Match");
            rest.respond(ctx, () -> {
                registry.delete(id, ifMatch);
                return null;
            }, (c, none) -> c.response().setStatusCode(204).end());
        }
    }

    private void bulk(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_WRITE)) {
            // IoT Hub answers a request with a failed entry 400, with the result as the body and
            // iothub-errorcode BulkRegistryOperationFailure ("Bulk Registry - Update Registry").
            rest.respond(ctx, () -> registry.bulk(RestSupport.bodyJson(ctx)), (c, result) -> {
                if (RegistryService.failed(result)) {
                    c.response().putHeader("iothub-errorcode", ErrorCode.BULK_REGISTRY_OPERATION_FAILURE.codeName());
                    RestSupport.json(c, ErrorCode.BULK_REGISTRY_OPERATION_FAILURE.httpStatus(), result);
                } else {
                    RestSupport.json(c, 200, result);
                }
            });
        }
    }

    private void statistics(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.REGISTRY_READ)) {
            rest.respond(ctx, registry::statistics);
        }
    }
}
