package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.c2d.C2dQueues;
import dev.iotjobs.localhub.json.Json;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Cloud-to-device messages over REST: {@code DELETE /devices/{id}/commands} purges a device's queue, as IoT Hub's
 * "Cloud To Device Messages - Purge Cloud To Device Message Queue" does. Sending is AMQP-only on IoT Hub.
 */
final class CloudToDeviceRoutes {
    private final RestSupport rest;
    private final C2dQueues queues;

    CloudToDeviceRoutes(RestSupport rest, C2dQueues queues) {
        this.rest = rest;
        this.queues = queues;
    }

    void register(Router router) {
        router.delete("/devices/:id/commands").handler(this::purge);
    }

    private void purge(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> {
                int purged = queues.purge(id);
                ObjectNode n = Json.object();
                n.put("deviceId", id);
                n.putNull("moduleId");
                n.put("totalMessagesPurged", purged);
                return n;
            });
        }
    }
}
