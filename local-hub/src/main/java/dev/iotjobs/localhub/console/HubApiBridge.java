package dev.iotjobs.localhub.console;

import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.throttle.HubThrottles;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * {@code /api/<path>} of the console is {@code <path>} of the hub's REST API, for an allow-list of the calls the
 * pages make. Each call goes over HTTPS (checking the hub's certificate) with a SAS token of the console's
 * policy; the hub authorizes it like any service call, and its answer (status, JSON, ETag, paging and error
 * headers) goes back to the page unchanged. Device identities are not on the list: they carry device keys.
 */
final class HubApiBridge {
    static final String API_VERSION = "2021-04-12";
    private static final long TOKEN_SECONDS = 3600;
    /** Request headers a page may set; everything else (cookies, Authorization, ...) stays behind. */
    private static final List<String> REQUEST_HEADERS = List.of("Content-Type", "If-Match", "x-ms-continuation",
            "x-ms-max-item-count");
    private static final List<String> RESPONSE_HEADERS = List.of("Content-Type", "ETag", "x-ms-continuation",
            "x-ms-item-type", "iothub-errorcode");
    private static final List<String> QUERY_PARAMETERS = List.of("jobType", "jobStatus", "deviceId", "top",
            "after");
    /** A direct method may take up to 300 s (its responseTimeoutInSeconds) plus its connect timeout. */
    private static final long CALL_TIMEOUT_MILLIS = 330_000;

    private final HttpClientAgent client;
    private final ConsoleServer.Target target;
    private String token;
    private long tokenExpiry;

    HubApiBridge(Vertx vertx, ConsoleServer.Target target) {
        this.target = target;
        HttpClientOptions options = new HttpClientOptions().setSsl(true)
                .setTrustOptions(new PemTrustOptions().addCertPath(target.caPem().toString()))
                .setVerifyHost(true)
                // Drop idle connections before the hub does (it closes them after its HTTP headers timeout, 20 s by
                // default), so that a call never goes out on a connection the hub is closing.
                .setKeepAliveTimeout(10);
        options.getSslOptions().setHostnameVerificationAlgorithm("HTTPS");
        // Pages poll every second and a direct method may hold a connection for minutes: more than the default 5.
        this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(32));
    }

    void register(Router router) {
        router.get("/api/statistics/devices").handler(this::forward);
        router.post("/api/devices/query").handler(this::forward);
        router.get("/api/twins/:id").handler(this::forward);
        router.patch("/api/twins/:id").handler(this::forward);
        router.post("/api/twins/:id/methods").handler(this::forward);
        router.get("/api/jobs/v2/query").handler(this::forward);
        router.get("/api/jobs/v2/:id").handler(this::forward);
        router.put("/api/jobs/v2/:id").handler(this::forward);
        router.post("/api/jobs/v2/:id/cancel").handler(this::forward);
        router.get("/api/local-hub/devices/:id/messages").handler(this::forward);
        router.post("/api/local-hub/devices/:id/messages").handler(this::forward);
        router.delete("/api/devices/:id/commands").handler(this::forward);
        router.get("/api/local-hub/telemetry").handler(this::forward);
        router.get("/api/local-hub/feedback").handler(this::forward);
        router.route("/api/*").handler(ctx -> ConsoleGuard.refuse(ctx, 404, "The console does not forward "
                + ctx.request().method() + " " + ctx.request().path() + " to the hub."));
    }

    private void forward(RoutingContext ctx) {
        call(ctx.request().method(), hubUri(ctx), ctx.request().headers(), ctx.body().buffer())
                .onSuccess(answer -> answer.send(ctx))
                .onFailure(e -> ConsoleGuard.refuse(ctx, 502, "The hub's REST API did not answer: " + e.getMessage()));
    }

    /** The REST path and query of a console call: its path without {@code /api}, the allowed parameters, api-version. */
    static String hubUri(RoutingContext ctx) {
        StringBuilder uri = new StringBuilder(ctx.request().path().substring("/api".length()))
                .append("?api-version=").append(API_VERSION);
        for (String name : QUERY_PARAMETERS) {
            String value = ctx.request().getParam(name);
            if (value != null) {
                uri.append('&').append(name).append('=').append(URLEncoder.encode(value,
                        StandardCharsets.UTF_8));
            }
        }
        return uri.toString();
    }

    private Future<Answer> call(HttpMethod method, String uri, MultiMap pageHeaders, Buffer body) {
        RequestOptions options = new RequestOptions().setMethod(method).setHost(target.restHost())
                .setPort(target.restPort()).setURI(uri).setIdleTimeout(CALL_TIMEOUT_MILLIS)
                .putHeader("Authorization", token()).putHeader("Accept", "application/json")
                // Tier emulation: the console's own polling is not the application's traffic; not counted.
                .putHeader(HubThrottles.CONSOLE_CALL_HEADER, "1");
        for (String name : REQUEST_HEADERS) {
            if (pageHeaders.contains(name)) {
                options.putHeader(name, pageHeaders.get(name));
            }
        }
        return client.request(options)
                .compose(request -> body == null ? request.send() : request.send(body))
                .compose(response -> response.body().map(bytes -> new Answer(response, bytes)));
    }

    /** A SAS token of the console's policy, renewed well before it expires; it never leaves this JVM. */
    private synchronized String token() {
        long now = Instant.now().getEpochSecond();
        if (token == null || tokenExpiry - now < TOKEN_SECONDS / 4) {
            tokenExpiry = now + TOKEN_SECONDS;
            token = SasToken.create(target.hubName(), target.policyKey(), target.policyName(), tokenExpiry);
        }
        return token;
    }

    Future<Void> close() {
        return client.close();
    }

    /** The hub's answer, passed on as it came. */
    private record Answer(int status, MultiMap headers, Buffer body) {
        Answer(HttpClientResponse response, Buffer body) {
            this(response.statusCode(), response.headers(), body);
        }

        void send(RoutingContext ctx) {
            if (ctx.response().ended()) {
                return;
            }
            ctx.response().setStatusCode(status);
            for (String name : RESPONSE_HEADERS) {
                if (headers.contains(name)) {
                    ctx.response().putHeader(name, headers.get(name));
                }
            }
            ctx.response().end(body);
        }
    }
}
