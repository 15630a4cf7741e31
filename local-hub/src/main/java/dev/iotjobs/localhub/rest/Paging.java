package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ContinuationToken;
import dev.iotjobs.localhub.model.ErrorCode;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/**
 * IoT Hub's paging over REST, for every paged route: the page size in {@code x-ms-max-item-count}, the
 * position in an opaque {@code x-ms-continuation} token, the item type in {@code x-ms-item-type}.
 */
final class Paging {
    /** IoT Hub's largest page of jobs. */
    static final int MAX_JOB_PAGE = 100;

    private Paging() {
    }

    /** The requested page size, or null for the route's default; 400 if not a positive integer. */
    static Integer pageSize(String header) {
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
    static void send(RoutingContext ctx, List<ObjectNode> items, String continuation, String itemType) {
        ArrayNode array = Json.NODES.arrayNode();
        items.forEach(array::add);
        if (continuation != null) {
            ctx.response().putHeader("x-ms-continuation", continuation);
        }
        ctx.response().putHeader("x-ms-item-type", itemType);
        RestSupport.json(ctx, 200, array);
    }

    /**
     * Sends one page of a list computed whole (jobs): at most {@code maxPage} items from the position in the
     * continuation token, with a token for the next page while items remain.
     */
    static void sendSlice(RoutingContext ctx, List<ObjectNode> all, int maxPage, String itemType) {
        Integer size = pageSize(ctx.request().getHeader("x-ms-max-item-count"));
        int pageSize = size == null ? maxPage : Math.min(maxPage, size);
        ContinuationToken.Page<ObjectNode> page = ContinuationToken.page(all, ctx.request().getHeader("x-ms-continuation"), pageSize);
        send(ctx, page.items(), page.continuation(), itemType);
    }
}
