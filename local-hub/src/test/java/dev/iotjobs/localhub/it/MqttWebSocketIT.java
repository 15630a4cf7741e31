package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.ProxySettings;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.tls.TrustStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MQTT over WebSockets: the unmodified DeviceClient with {@code IotHubClientProtocol.MQTT_WS} on the hub's HTTPS
 * port 443 (path {@code /$iothub/websocket}), next to the REST API and to MQTT devices on 8883.
 */
@ExtendWith(LocalHubExtension.class)
class MqttWebSocketIT {

    private static DeviceClient connectWs(LocalHub hub, Device device) throws Exception {
        DeviceClient client = TestDevices.webSocketClient(hub, TestDevices.connectionString(device));
        client.open(false);
        return client;
    }

    @Test
    void mqttWs_connectTwinDesiredNotificationAndMethod(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("ws"));
        DeviceClient client = connectWs(hub, device);
        try {
            // Only upgrades become MQTT: a plain GET on the same path is a REST request (404 with an IoT Hub body).
            HttpClient http = HttpClient.newBuilder().sslContext(TrustStores.trusting(hub.trustStore())).build();
            HttpResponse<String> plain = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + hub.restPort()
                    + "/$iothub/websocket?iothub-no-client-cert=true")).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, plain.statusCode(), plain.body());
            assertTrue(plain.body().contains("404000"), plain.body());

            TwinClient twins = new TwinClient(hub.hubConnectionString());
            assertEquals("CONNECTED", twins.get(device.getDeviceId()).getConnectionState());

            BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> patches = new LinkedBlockingQueue<>();
            client.subscribeToDesiredProperties((twin, ctx) -> patches.add(twin), null);
            client.subscribeToMethods((name, payload, ctx) ->
                    new DirectMethodResponse(200, Map.of("over", "ws", "method", name)), null);

            TwinCollection reported = new TwinCollection();
            reported.put("transport", "MQTT_WS");
            assertEquals(2, TestDevices.updateReported(client, reported, hub, device.getDeviceId()));
            com.microsoft.azure.sdk.iot.device.twin.Twin seen = TestDevices.getTwin(client);
            assertEquals("MQTT_WS", seen.getReportedProperties().get("transport"));

            Twin desired = new Twin(device.getDeviceId());
            desired.getDesiredProperties().put("mode", "eco");
            twins.patch(desired);
            com.microsoft.azure.sdk.iot.device.twin.Twin patch = patches.poll(10, TimeUnit.SECONDS);
            assertNotNull(patch, "desired notification over the WebSocket");
            assertEquals("eco", patch.getDesiredProperties().get("mode"));

            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(device.getDeviceId(), "lockDoor",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
            assertEquals(200, response.getStatus());
            assertTrue(response.getPayloadAsJsonString().contains("\"over\":\"ws\""), response.getPayloadAsJsonString());
        } finally {
            client.close();
        }
        TwinClient twins = new TwinClient(hub.hubConnectionString());
        long deadline = System.currentTimeMillis() + 10_000;
        while (!"DISCONNECTED".equals(twins.get(device.getDeviceId()).getConnectionState())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals("DISCONNECTED", twins.get(device.getDeviceId()).getConnectionState(), "close ends the MQTT session too");
    }

    @Test
    void mqttWs_wrongKeyIsRefusedAsUnauthorized(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("ws-bad"));
        String wrongKey = "HostName=127.0.0.1;DeviceId=" + device.getDeviceId() + ";SharedAccessKey="
                + WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY;
        DeviceClient client = TestDevices.webSocketClient(hub, wrongKey);
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode());
        } finally {
            client.close();
        }
    }

    @Test
    void methodAndTwinJobs_overAMixedFleetOfMqttAndMqttWsDevices(LocalHub hub) throws Exception {
        String run = TestDevices.uniqueId("mixed");
        List<Device> devices = JobsApiIT.taggedDevices(hub, run, 4);
        List<DeviceClient> clients = new ArrayList<>();
        List<BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin>> patches = new ArrayList<>();
        try {
            for (int i = 0; i < devices.size(); i++) {
                DeviceClient c = i % 2 == 0 ? TestDevices.connect(devices.get(i)) : connectWs(hub, devices.get(i));
                String transport = i % 2 == 0 ? "MQTT" : "MQTT_WS";
                c.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, Map.of("via", transport)), null);
                BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> q = new LinkedBlockingQueue<>();
                c.subscribeToDesiredProperties((twin, ctx) -> q.add(twin), null);
                patches.add(q);
                clients.add(c);
            }
            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String methodJob = "job-" + UUID.randomUUID();
            jobs.scheduleDirectMethod(methodJob, "tags.run = '" + run + "'", "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(5).methodResponseTimeoutSeconds(10)
                            .maxExecutionTimeSeconds(60).build());
            ScheduledJob done = JobsApiIT.awaitTerminal(jobs, methodJob, 30_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(4, done.getJobStatistics().getSucceededCount());
            Map<String, ScheduledJob> records = JobsApiIT.deviceRecords(hub, methodJob);
            for (int i = 0; i < devices.size(); i++) {
                ScheduledJob row = records.get(devices.get(i).getDeviceId());
                assertEquals(200, row.getOutcomeResult().getStatus());
                assertTrue(row.getOutcomeResult().getPayloadAsJsonString().contains(i % 2 == 0 ? "\"MQTT\"" : "\"MQTT_WS\""),
                        row.getOutcomeResult().getPayloadAsJsonString());
            }

            Twin patch = new Twin();
            patch.getDesiredProperties().put("building", 43);
            String twinJob = "job-" + UUID.randomUUID();
            jobs.scheduleUpdateTwin(twinJob, "tags.run = '" + run + "'", patch, new Date(), 60);
            assertEquals(4, JobsApiIT.awaitTerminal(jobs, twinJob, 30_000).getJobStatistics().getSucceededCount());
            for (BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> q : patches) {
                com.microsoft.azure.sdk.iot.device.twin.Twin received = q.poll(10, TimeUnit.SECONDS);
                assertNotNull(received, "every device, MQTT or MQTT_WS, gets the twin job's desired patch");
                assertEquals(43, ((Number) received.getDesiredProperties().get("building")).intValue());
            }
        } finally {
            clients.forEach(DeviceClient::close);
        }
    }

    /**
     * Where port 443 is privileged the hub serves HTTPS elsewhere behind its CONNECT proxy; a device reaches the
     * WebSocket endpoint through it with the device SDK's own proxy settings (a second hub on free ports).
     */
    @Test
    void mqttWs_throughTheConnectProxyWithTheSdksProxySettings(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).alwaysProxy(true).build())) {
            ClientOptions options = ClientOptions.builder()
                    .sslContext(TrustStores.trusting(hub.trustStore()))
                    .proxySettings(new ProxySettings(new Proxy(Proxy.Type.HTTP,
                            new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.proxyPort()))))
                    .build();
            DeviceClient client = new DeviceClient(hub.deviceConnectionString(WellKnownKeys.DEFAULT_DEVICE_ID),
                    IotHubClientProtocol.MQTT_WS, options);
            try {
                client.open(false);
                client.subscribeToDesiredProperties((twin, ctx) -> { }, null);
                TwinCollection reported = new TwinCollection();
                reported.put("via", "proxy");
                assertEquals(2, TestDevices.updateReported(client, reported, hub, WellKnownKeys.DEFAULT_DEVICE_ID));
                assertEquals("proxy", TestDevices.getTwin(client).getReportedProperties().get("via"));
                assertEquals(1, hub.connectedDevices());
            } finally {
                client.close();
            }
        }
    }
}
