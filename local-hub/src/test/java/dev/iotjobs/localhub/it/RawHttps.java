package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.IOException;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * Hand-made HTTPS requests to the hub's service endpoint, for what the SDKs never send (bad JSON, unknown
 * routes, missing api-version). Same TLS trust as the SDKs (the JVM default), no certificate bypass.
 */
final class RawHttps {
    static final String API_VERSION = "2021-04-12";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .proxy(ProxySelector.getDefault()) // honours https.proxyHost when the hub could not bind 443
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private RawHttps() {
    }

    /** A fresh iothubowner SAS token valid for an hour. */
    static String ownerToken() {
        return SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner",
                Instant.now().getEpochSecond() + 3600);
    }

    record Response(int status, String body) {
        JsonNode json() throws IOException {
            return MAPPER.readTree(body);
        }

        /** The numeric errorCode inside the nested {@code Message} of an IoT Hub error body, or null. */
        Integer errorCode() throws IOException {
            JsonNode outer = json();
            JsonNode message = outer.get("Message");
            JsonNode inner = message != null && message.isTextual() ? MAPPER.readTree(message.asText()) : outer;
            JsonNode code = inner.get("errorCode");
            return code != null && code.isIntegralNumber() ? code.asInt() : null;
        }
    }

    /** Sends {@code method pathAndQuery} with the iothubowner token; body may be null. */
    static Response send(String method, String pathAndQuery, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://" + WellKnownKeys.HOST_NAME + pathAndQuery))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", ownerToken())
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        HttpResponse<String> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Response(r.statusCode(), r.body());
    }

    static String withApiVersion(String path) {
        return path + (path.contains("?") ? "&" : "?") + "api-version=" + API_VERSION;
    }
}
