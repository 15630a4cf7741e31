package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ProxySelector;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /local-hub/telemetry}, the hub's own read of its built-in endpoint (for the console): what a device
 * sent over MQTT with the unmodified device SDK, newest first, polled incrementally with the cursor; authorized
 * as reading the built-in endpoint is (Service Connect); bad input refused with IoT Hub's error body.
 */
@ExtendWith(LocalHubExtension.class)
class TelemetryApiIT {

    private static RawHttps.Response get(String pathAndQuery) throws Exception {
        return RawHttps.send("GET", RawHttps.withApiVersion(pathAndQuery), null);
    }

    @Test
    void readsADevicesTelemetryNewestFirst_thenOnlyNewMessagesAfterTheCursor(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("telemetry-api"));
        String id = device.getDeviceId();
        DeviceClient client = TestDevices.connect(device);
        try {
            for (int i = 0; i < 3; i++) {
                Message m = new Message("{\"temperature\": " + (20 + i) + "}");
                m.setMessageId("m-" + i);
                m.setContentType("application/json");
                m.setProperty("alert", i == 2 ? "true" : "false");
                client.sendEvent(m);
            }
            JsonNode page = get("/local-hub/telemetry?deviceId=" + URLEncoder.encode(id, StandardCharsets.UTF_8)).json();
            assertEquals(3, page.get("messages").size(), page.toString());
            JsonNode newest = page.get("messages").get(0);
            assertEquals("{\"temperature\": 22}", newest.get("body").asText());
            assertEquals("utf-8", newest.get("bodyEncoding").asText());
            assertEquals("true", newest.get("properties").get("alert").asText());
            assertEquals("m-2", newest.get("systemProperties").get("message-id").asText());
            assertEquals("application/json", newest.get("systemProperties").get("content-type").asText());
            assertEquals(id, newest.get("systemProperties").get("iothub-connection-device-id").asText());
            assertEquals("sas", newest.get("systemProperties").get("iothub-connection-auth-method").asText());
            assertFalse(Instant.parse(newest.get("enqueuedTimeUtc").asText()).isAfter(Instant.now()));
            assertEquals(3, page.get("messagesLastMinute").asLong());
            assertEquals(hub.telemetry().partitionCount(), page.get("cursor").asText().split(",").length);

            String cursor = page.get("cursor").asText();
            JsonNode nothing = get("/local-hub/telemetry?deviceId=" + id + "&after=" + cursor).json();
            assertEquals(0, nothing.get("messages").size(), nothing.toString());

            client.sendEvent(new Message("later"));
            JsonNode later = get("/local-hub/telemetry?deviceId=" + id + "&after=" + cursor).json();
            assertEquals(1, later.get("messages").size(), later.toString());
            assertEquals("later", later.get("messages").get(0).get("body").asText());

            // Hub-wide, this device's newest message is among the newest.
            JsonNode all = get("/local-hub/telemetry?top=100").json();
            assertTrue(all.get("messages").toString().contains("\"later\""), all.toString());
        } finally {
            client.close();
        }
    }

    @Test
    void badCursorOrSizeIsArgumentInvalid(LocalHub hub) throws Exception {
        RawHttps.Response letters = get("/local-hub/telemetry?after=x,y");
        assertEquals(400, letters.status(), letters.body());
        assertEquals(400004, letters.errorCode());
        assertTrue(letters.body().contains("cursor"), letters.body());

        RawHttps.Response wrongLength = get("/local-hub/telemetry?after=1");
        assertEquals(400, wrongLength.status(), wrongLength.body());
        assertEquals(400004, wrongLength.errorCode());

        RawHttps.Response tooMany = get("/local-hub/telemetry?top=1000");
        assertEquals(400, tooMany.status(), tooMany.body());
        assertEquals(400004, tooMany.errorCode());
    }

    @Test
    void needsServiceConnect(LocalHub hub) throws Exception {
        assertEquals(401, status("registryRead", WellKnownKeys.REGISTRY_READ_KEY));
        assertEquals(401, status("registryReadWrite", WellKnownKeys.REGISTRY_READ_WRITE_KEY));
        assertEquals(200, status("service", WellKnownKeys.SERVICE_KEY));
    }

    private static int status(String policy, String key) throws Exception {
        String token = SasToken.create(WellKnownKeys.HOST_NAME, key, policy, Instant.now().getEpochSecond() + 3600);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .proxy(ProxySelector.getDefault()).connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("https://" + WellKnownKeys.HOST_NAME
                        + RawHttps.withApiVersion("/local-hub/telemetry")))
                .timeout(Duration.ofSeconds(20)).header("Authorization", token).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
