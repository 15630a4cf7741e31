package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.registry.DeviceStatus;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Devices over AMQP: the unmodified DeviceClient with {@code IotHubClientProtocol.AMQPS} (port 5671) and
 * {@code AMQPS_WS} (WebSocket on the HTTPS port), SAS authentication through the claims-based security node.
 */
@ExtendWith(LocalHubExtension.class)
class AmqpDeviceIT {

    /** A device client over {@code protocol} that reaches {@code hub} whoever runs it (AMQPS_WS through the proxy if needed). */
    static DeviceClient client(LocalHub hub, String connectionString, IotHubClientProtocol protocol) {
        return new DeviceClient(connectionString, protocol, TestDevices.options(hub, protocol).build());
    }

    @Test
    void amqps_telemetryTwinDesiredAndMethod(LocalHub hub) throws Exception {
        roundTrip(hub, IotHubClientProtocol.AMQPS);
    }

    @Test
    void amqpsWs_telemetryTwinDesiredAndMethod(LocalHub hub) throws Exception {
        roundTrip(hub, IotHubClientProtocol.AMQPS_WS);
    }

    private static void roundTrip(LocalHub hub, IotHubClientProtocol protocol) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp"));
        DeviceClient client = client(hub, TestDevices.connectionString(device), protocol);
        try {
            client.open(false);
            TwinClient twins = new TwinClient(hub.hubConnectionString());
            assertEquals("CONNECTED", twins.get(device.getDeviceId()).getConnectionState());

            Message telemetry = new Message("{\"temperature\":21.5}".getBytes(StandardCharsets.UTF_8));
            telemetry.setProperty("alert", "false");
            CompletableFuture<IotHubClientException> sent = new CompletableFuture<>();
            client.sendEventAsync(telemetry, (m, e, ctx) -> sent.complete(e), null);
            IotHubClientException sendError = sent.get(30, TimeUnit.SECONDS);
            assertEquals(null, sendError, "telemetry accepted");

            BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> patches = new LinkedBlockingQueue<>();
            client.subscribeToDesiredProperties((twin, ctx) -> patches.add(twin), null);
            client.subscribeToMethods((name, payload, ctx) ->
                    new DirectMethodResponse(201, Map.of("over", protocol.toString(), "method", name)), null);

            TwinCollection reported = new TwinCollection();
            reported.put("transport", protocol.toString());
            assertEquals(2, TestDevices.updateReported(client, reported, hub, device.getDeviceId()));
            com.microsoft.azure.sdk.iot.device.twin.Twin seen = TestDevices.getTwin(client);
            assertEquals(protocol.toString(), seen.getReportedProperties().get("transport"));

            Twin desired = new Twin(device.getDeviceId());
            desired.getDesiredProperties().put("mode", "eco");
            twins.patch(desired);
            com.microsoft.azure.sdk.iot.device.twin.Twin patch = patches.poll(10, TimeUnit.SECONDS);
            assertNotNull(patch, "desired notification over AMQP");
            assertEquals("eco", patch.getDesiredProperties().get("mode"));

            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(device.getDeviceId(), "lockDoor",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).methodConnectTimeoutSeconds(10).build());
            assertEquals(201, response.getStatus());
            assertTrue(response.getPayloadAsJsonString().contains("\"method\":\"lockDoor\""), response.getPayloadAsJsonString());
        } finally {
            client.close();
        }
        TwinClient twins = new TwinClient(hub.hubConnectionString());
        long deadline = System.currentTimeMillis() + 10_000;
        while (!"DISCONNECTED".equals(twins.get(device.getDeviceId()).getConnectionState())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals("DISCONNECTED", twins.get(device.getDeviceId()).getConnectionState());
    }

    @Test
    void amqps_moduleClient_telemetryDesiredAndMethod(LocalHub hub) throws Exception {
        String deviceId = TestDevices.register(hub, TestDevices.uniqueId("amqp-mod")).getDeviceId();
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        registry.addModule(new com.microsoft.azure.sdk.iot.service.registry.Module(deviceId, "m1"));
        com.microsoft.azure.sdk.iot.device.ModuleClient client = new com.microsoft.azure.sdk.iot.device.ModuleClient(
                hub.moduleConnectionString(deviceId, "m1"), IotHubClientProtocol.AMQPS);
        try {
            client.open(false);
            assertEquals("CONNECTED", registry.getModule(deviceId, "m1").getConnectionState().toString().toUpperCase());
            assertEquals("DISCONNECTED", registry.getDevice(deviceId).getConnectionState().toString().toUpperCase(),
                    "a module's connection is not its device's");
            CompletableFuture<IotHubClientException> sent = new CompletableFuture<>();
            client.sendEventAsync(new Message("from a module"), (m, e, ctx) -> sent.complete(e), null);
            assertEquals(null, sent.get(30, TimeUnit.SECONDS), "module telemetry accepted");

            BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> patches = new LinkedBlockingQueue<>();
            client.subscribeToDesiredProperties((twin, ctx) -> patches.add(twin), null);
            client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, "module " + name), null);
            Twin desired = new Twin(deviceId, "m1");
            desired.getDesiredProperties().put("rate", 7);
            new TwinClient(hub.hubConnectionString()).patch(desired);
            com.microsoft.azure.sdk.iot.device.twin.Twin patch = patches.poll(10, TimeUnit.SECONDS);
            assertNotNull(patch, "the module's desired notification");
            assertEquals(7, ((Number) patch.getDesiredProperties().get("rate")).intValue());

            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(deviceId, "m1", "ping",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).methodConnectTimeoutSeconds(10).build());
            assertEquals(200, response.getStatus());
            assertEquals("module ping", response.getPayload(String.class));
        } finally {
            client.close();
        }
    }

    /**
     * The device SDK renews its SAS token on the live connection (a new put-token at 85% of the token's life):
     * the hub keeps the connection and its links; nothing reconnects.
     */
    @Test
    void amqps_tokenRenewalKeepsTheConnection(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-renew"));
        DeviceClient client = new DeviceClient(TestDevices.connectionString(device), IotHubClientProtocol.AMQPS,
                ClientOptions.builder().sasTokenExpiryTime(4).build());
        java.util.List<String> statuses = new java.util.concurrent.CopyOnWriteArrayList<>();
        client.setConnectionStatusChangeCallback(ctx -> statuses.add(ctx.getNewStatus().toString()), null);
        try {
            client.open(false);
            client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, "still here"), null);
            Thread.sleep(10_000); // two and a half token lives: renewed twice, never expired
            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(device.getDeviceId(), "ping",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).methodConnectTimeoutSeconds(0).build());
            assertEquals(200, response.getStatus());
            assertEquals(java.util.List.of("CONNECTED"), statuses, "no reconnection: " + statuses);
        } finally {
            client.close();
        }
    }

    @Test
    void amqps_wrongKeyUnknownAndDisabledDevicesAreUnauthorized(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-bad"));
        assertRefused(hub, "HostName=127.0.0.1;DeviceId=" + device.getDeviceId() + ";SharedAccessKey="
                + WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY);
        assertRefused(hub, "HostName=127.0.0.1;DeviceId=" + TestDevices.uniqueId("amqp-unknown") + ";SharedAccessKey="
                + WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY);
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        device.setStatus(DeviceStatus.Disabled);
        registry.updateDevice(device);
        assertRefused(hub, TestDevices.connectionString(device));
    }

    private static void assertRefused(LocalHub hub, String connectionString) {
        DeviceClient client = client(hub, connectionString, IotHubClientProtocol.AMQPS);
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode(), e.toString());
        } finally {
            client.close();
        }
    }
}
