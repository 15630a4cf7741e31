package dev.iotjobs.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Registers simulated devices through the hub's bulk registry API ({@code POST /devices}, 100 devices per
 * request), with SAS keys chosen here so the simulator knows them without reading each device back.
 * Uses the JVM's default TLS trust and proxy settings (a test or benchmark points them at the hub it runs).
 */
public final class FleetDevices {
    /** IoT Hub accepts at most 100 devices per bulk registry request. */
    public static final int BULK_LIMIT = 100;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().proxy(ProxySelector.getDefault()).build();
    private final URI base;
    private final String ownerKey;

    /**
     * @param base     the REST endpoint, e.g. {@code https://127.0.0.1}
     * @param ownerKey the {@code iothubowner} policy key (for the local hub its well-known development key)
     */
    public FleetDevices(URI base, String ownerKey) {
        this.base = base;
        this.ownerKey = ownerKey;
    }

    /** A hub's REST endpoint on {@code https://127.0.0.1} (where the local hub serves), with its owner key. */
    public static FleetDevices localHub(String ownerKey) {
        return new FleetDevices(URI.create("https://127.0.0.1"), ownerKey);
    }

    /** A fresh random 256-bit device key, base64. */
    public static String newKey() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    /**
     * Registers devices {@code prefix-0 .. prefix-(count-1)} with random primary keys and the given tags
     * (may be null), and returns their credentials in order.
     */
    public List<FleetSimulator.DeviceCredentials> bulkCreate(String prefix, int count, ObjectNode tags) throws Exception {
        List<FleetSimulator.DeviceCredentials> all = new ArrayList<>(count);
        for (int start = 0; start < count; start += BULK_LIMIT) {
            ArrayNode batch = JSON.createArrayNode();
            List<FleetSimulator.DeviceCredentials> created = new ArrayList<>();
            for (int i = start; i < Math.min(count, start + BULK_LIMIT); i++) {
                FleetSimulator.DeviceCredentials c = new FleetSimulator.DeviceCredentials(prefix + "-" + i, newKey());
                ObjectNode d = batch.addObject();
                d.put("id", c.deviceId());
                d.put("importMode", "create");
                ObjectNode auth = d.putObject("authentication");
                auth.put("type", "sas");
                ObjectNode keys = auth.putObject("symmetricKey");
                keys.put("primaryKey", c.primaryKey());
                keys.put("secondaryKey", newKey());
                if (tags != null) {
                    d.set("tags", tags);
                }
                created.add(c);
            }
            HttpResponse<String> r = send("POST", "/devices?api-version=2021-04-12", JSON.writeValueAsString(batch));
            JsonNode result = r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
            if (result == null || !result.path("isSuccessful").asBoolean()) {
                throw new IllegalStateException("bulk create failed: HTTP " + r.statusCode() + " " + r.body());
            }
            all.addAll(created);
        }
        return all;
    }

    private HttpResponse<String> send(String method, String pathAndQuery, String body) throws Exception {
        String token = SasTokens.create(base.getHost(), ownerKey, "iothubowner", Instant.now().getEpochSecond() + 3600);
        HttpRequest request = HttpRequest.newBuilder(base.resolve(pathAndQuery))
                .header("Authorization", token)
                .header("Content-Type", "application/json; charset=utf-8")
                .method(method, HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
