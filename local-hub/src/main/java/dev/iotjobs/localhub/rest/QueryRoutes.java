package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.query.QueryService;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

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
        if (rest.admit(ctx, Permission.REGISTRY_READ, Permission.SERVICE_CONNECT)) {
            String continuation = ctx.request().getHeader("x-ms-continuation");
            String pageSize = ctx.request().getHeader("x-ms-max-item-count");
            rest.respond(ctx, () -> queries.query(queryText(RestSupport.bodyObject(ctx)), Paging.pageSize(pageSize),
                    continuation), (c, page) -> Paging.send(c, page.items(), page.continuation(), page.itemType()));
        }
    }

    private static String queryText(ObjectNode body) {
        JsonNode text = body.get("query");
        if (text == null || !text.isTextual()) {
            throw ErrorCode.ARGUMENT_NULL.exception("The body needs a 'query' string.");
        }
        return text.asText();
    }
}
