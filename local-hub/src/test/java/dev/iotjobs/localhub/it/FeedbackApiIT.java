package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.service.messaging.DeliveryAcknowledgement;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /local-hub/feedback?deviceId=&top=}, the hub's own view of the feedback records it produced (for the
 * console): a message the service SDK sent with full feedback and the device SDK completed over MQTT has its
 * Success record, with the state of the feedback message carrying it; Service Connect; a bad {@code top} is 400004.
 */
@ExtendWith(LocalHubExtension.class)
class FeedbackApiIT {

    private static RawHttps.Response get(String pathAndQuery) throws Exception {
        return RawHttps.send("GET", RawHttps.withApiVersion(pathAndQuery), null);
    }

    @Test
    void showsTheSuccessRecordOfACompletedMessage_newestFirst(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("feedback-api"));
        String id = device.getDeviceId();
        CountDownLatch completed = new CountDownLatch(2);
        DeviceClient client = new DeviceClient(TestDevices.connectionString(device), IotHubClientProtocol.MQTT);
        client.setMessageCallback((m, ctx) -> {
            completed.countDown();
            return IotHubMessageResult.COMPLETE;
        }, null);
        client.open(false);
        MessagingClient messaging = new MessagingClient(hub.hubConnectionString(), IotHubServiceClientProtocol.AMQPS);
        messaging.open();
        try {
            for (String name : new String[]{"older", "newer"}) {
                Message m = new Message(name);
                m.setMessageId(id + "-" + name);
                m.setDeliveryAcknowledgement(DeliveryAcknowledgement.Full);
                messaging.send(id, m);
            }
            assertTrue(completed.await(30, TimeUnit.SECONDS), "the device received both messages");
            String path = "/local-hub/feedback?deviceId=" + URLEncoder.encode(id, StandardCharsets.UTF_8);
            JsonNode page = get(path).json();
            long deadline = System.currentTimeMillis() + 30_000;
            while (page.get("records").size() < 2 && System.currentTimeMillis() < deadline) {
                Thread.sleep(50); // the device's PUBACK travels after its callback returns
                page = get(path).json();
            }
            assertEquals(id, page.get("deviceId").asText());
            assertEquals(2, page.get("records").size(), page.toString());
            JsonNode newest = page.get("records").get(0);
            assertEquals(id + "-newer", newest.get("originalMessageId").asText());
            assertEquals(id + "-older", page.get("records").get(1).get("originalMessageId").asText());
            assertEquals("Success", newest.get("statusCode").asText());
            assertEquals(id, newest.get("deviceId").asText());
            assertTrue(newest.hasNonNull("deviceGenerationId"), newest.toString());
            assertTrue(newest.hasNonNull("description"), newest.toString());
            Instant.parse(newest.get("enqueuedTimeUtc").asText());
            assertTrue(newest.get("batch").get("state").asText().matches("pending|waiting|received|completed"),
                    newest.toString());
            assertEquals(1, get(path + "&top=1").json().get("records").size());
            assertTrue(get("/local-hub/feedback?top=100").json().get("records").toString().contains(id + "-newer"));
        } finally {
            messaging.close();
            client.close();
        }
    }

    @Test
    void badTopIsArgumentInvalid(LocalHub hub) throws Exception {
        for (String top : new String[]{"0", "101", "x"}) {
            RawHttps.Response r = get("/local-hub/feedback?top=" + top);
            assertEquals(400, r.status(), r.body());
            assertEquals(400004, r.errorCode());
            assertTrue(r.body().contains("top"), r.body());
        }
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
                        + RawHttps.withApiVersion("/local-hub/feedback")))
                .timeout(Duration.ofSeconds(20)).header("Authorization", token).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
