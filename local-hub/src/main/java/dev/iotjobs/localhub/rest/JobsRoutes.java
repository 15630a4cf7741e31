package dev.iotjobs.localhub.rest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.jobs.JobService;
import dev.iotjobs.localhub.model.ErrorCode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/** Scheduled jobs: /jobs/v2/{jobId}, /jobs/v2/{jobId}/cancel and /jobs/v2/query. */
final class JobsRoutes {
    private final RestSupport rest;
    private final JobService jobs;

    JobsRoutes(RestSupport rest, JobService jobs) {
        this.rest = rest;
        this.jobs = jobs;
    }

    void register(Router router) {
        router.get("/jobs/v2/query").handler(this::list);
        router.put("/jobs/v2/:id").handler(this::create);
        router.get("/jobs/v2/:id").handler(this::get);
        router.post("/jobs/v2/:id/cancel").handler(this::cancel);
    }

    /** Creating a job needs what the tutorial's policy grants: Registry Write and Service Connect. */
    private void create(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT) && rest.admit(ctx, Permission.REGISTRY_WRITE)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> jobs.create(id, RestSupport.bodyObject(ctx)));
        }
    }

    private void get(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT, Permission.REGISTRY_READ)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> jobs.get(id));
        }
    }

    private void cancel(RoutingContext ctx) {
        if (rest.admit(ctx, Permission.SERVICE_CONNECT)) {
            String id = ctx.pathParam("id");
            rest.respond(ctx, () -> jobs.cancel(id));
        }
    }

    private void list(RoutingContext ctx) {
        if (!rest.admit(ctx, Permission.SERVICE_CONNECT, Permission.REGISTRY_READ)) {
            return;
        }
        String type = ctx.request().getParam("jobType");
        String status = ctx.request().getParam("jobStatus");
        String continuation = ctx.request().getHeader("x-ms-continuation");
        String pageSizeHeader = ctx.request().getHeader("x-ms-max-item-count");
        rest.blocking(() -> jobs.list(type, status)).onComplete(ar -> {
            if (ar.failed()) {
                RestSupport.fail(ctx, ar.cause());
                return;
            }
            try {
                List<ObjectNode> all = ar.result();
                Integer size = QueryRoutes.parsePageSize(pageSizeHeader);
                int pageSize = size == null ? 100 : Math.min(100, size);
                int offset = offset(continuation);
                int end = (int) Math.min(all.size(), (long) offset + pageSize);
                List<ObjectNode> page = offset >= all.size() ? List.of() : all.subList(offset, end);
                QueryRoutes.sendPage(ctx, page, end < all.size() ? token(end) : null, "jobResponse");
            } catch (RuntimeException e) {
                RestSupport.fail(ctx, e);
            }
        });
    }

    private static String token(int offset) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("j:" + offset).getBytes(StandardCharsets.UTF_8));
    }

    private static int offset(String token) {
        if (token == null) {
            return 0;
        }
        try {
            String text = new String(Base64.getUrlDecoder().decode(token.trim()), StandardCharsets.UTF_8);
            if (text.startsWith("j:")) {
                int offset = Integer.parseInt(text.substring(2));
                if (offset >= 0) {
                    return offset;
                }
            }
        } catch (IllegalArgumentException ignored) {
            // reported below
        }
        throw ErrorCode.ARGUMENT_INVALID.exception("The continuation token '" + token + "' is invalid.");
    }
}
