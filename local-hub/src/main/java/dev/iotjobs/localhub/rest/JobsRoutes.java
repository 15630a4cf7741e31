package dev.iotjobs.localhub.rest;

import dev.iotjobs.localhub.auth.Permission;
import dev.iotjobs.localhub.jobs.JobService;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

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
        if (rest.admit(ctx, Permission.SERVICE_CONNECT, Permission.REGISTRY_READ)) {
            String type = ctx.request().getParam("jobType");
            String status = ctx.request().getParam("jobStatus");
            rest.respond(ctx, () -> jobs.list(type, status),
                    (c, all) -> Paging.sendSlice(c, all, Paging.MAX_JOB_PAGE, "jobResponse"));
        }
    }
}
