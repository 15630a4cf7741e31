package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.query.QueryService;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** {@code POST /devices/query}: twin and device-job queries, paged with x-ms-* headers. */
final class QueryRoutes {
    private final RestSupport rest;
    private final QueryService queries;

    QueryRoutes(RestSupport rest, QueryService queries) {
        this.rest = rest;
        this.queries = queries;
    }

    void register(Router router) {
        router.post("/devices/query").handler(this::query);
    }

    private void query(RoutingContext ctx) {
        if (!rest.admit(ctx, Permission.REGISTRY_READ, Permission.SERVICE_CONNECT)) {
            return;
        }
        String continuation = ctx.request().getHeader("x-ms-continuation");
        String pageSize = ctx.request().getHeader("x-ms-max-item-count");
        rest.blocking(() -> {
            ObjectNode body = RestSupport.bodyObject(ctx);
            JsonNode text = body.get("query");
            if (text == null || !text.isTextual()) {
                throw ErrorCode.ARGUMENT_NULL.exception("The body needs a 'query' string.");
            }
            return queries.query(text.asText(), parsePageSize(pageSize), continuation);
        }).onComplete(ar -> {
            if (ar.failed()) {
                RestSupport.fail(ctx, ar.cause());
            } else {
                sendPage(ctx, ar.result().items(), ar.result().continuation(), ar.result().itemType());
            }
        });
    }

    static Integer parsePageSize(String header) {
        if (header == null) {
            return null;
        }
        try {
            int size = Integer.parseInt(header.trim());
            if (size > 0) {
                return size;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw ErrorCode.ARGUMENT_INVALID.exception("x-ms-max-item-count must be a positive integer, not '" + header + "'.");
    }

    /** The body is a bare JSON array; x-ms-continuation appears only while more rows remain. */
    static void sendPage(RoutingContext ctx, List<ObjectNode> items, String continuation, String itemType) {
        ArrayNode array = Json.NODES.arrayNode();
        items.forEach(array::add);
        if (continuation != null) {
            ctx.response().putHeader("x-ms-continuation", continuation);
        }
        ctx.response().putHeader("x-ms-item-type", itemType);
        RestSupport.json(ctx, 200, array);
    }
}
