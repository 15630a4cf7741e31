package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;

import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;

/**
 * Plain HTTPS calls to the hub's REST API, for what the 2.1.9 service SDK cannot send (bulk registry
 * requests, malformed bodies). Same TLS trust and proxy settings as the SDK.
 */
final class RawRest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().proxy(ProxySelector.getDefault()).build();

    private RawRest() {
    }

    record Response(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode json() {
            return Json.parse(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    static String ownerToken() {
        return SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner",
                Instant.now().getEpochSecond() + 3600);
    }

    static Response send(String method, String pathAndQuery, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://" + WellKnownKeys.HOST_NAME + pathAndQuery))
                .header("Authorization", ownerToken())
                .header("Content-Type", "application/json; charset=utf-8")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body(), r.headers());
    }

    /** Registers devices {@code prefix-0..count-1} with the given tags, 100 per bulk request. */
    static List<String> bulkCreate(String prefix, int count, ObjectNode tags) throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int start = 0; start < count; start += 100) {
            ArrayNode batch = Json.NODES.arrayNode();
            for (int i = start; i < Math.min(count, start + 100); i++) {
                ObjectNode d = batch.addObject();
                String id = prefix + "-" + i;
                d.put("id", id);
                d.put("importMode", "create");
                d.set("tags", tags);
                ids.add(id);
            }
            Response r = send("POST", "/devices?api-version=2021-04-12", Json.string(batch));
            if (r.status() != 200 || !r.json().path("isSuccessful").asBoolean()) {
                throw new AssertionError("bulk create failed: " + r.status() + " " + r.body());
            }
        }
        return ids;
    }
}
