package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A restarted hub (same data directory, same ports) keeps everything that was acknowledged. The hub is
 * shared with the other test classes, so this test leaves it running, and builds new clients afterwards.
 */
@ExtendWith(LocalHubExtension.class)
class RestartIT {

    @Test
    void restart_keepsDevicesKeysTwinsAndVersions(LocalHub hub) throws Exception {
        int mqttPort = hub.mqttPort();
        int restPort = hub.restPort();
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        TwinClient twins = new TwinClient(hub.hubConnectionString());
        Device device = registry.addDevice(new Device(TestDevices.uniqueId("restart")));
        String id = device.getDeviceId();

        Twin change = new Twin(id);
        change.getTags().put("site", Map.of("building", "43"));
        change.getDesiredProperties().put("setpoint", 21);
        twins.patch(change);
        DeviceClient client = TestDevices.connect(device);
        try {
            client.subscribeToDesiredProperties((t, ctx) -> { }, null);
            TwinCollection reported = new TwinCollection();
            reported.put("firmware", "1.0");
            TestDevices.updateReported(client, reported, hub, id);
        } finally {
            client.close();
        }
        Device deviceBefore = registry.getDevice(id);
        Twin before = twins.get(id);

        hub.restart();

        assertEquals(mqttPort, hub.mqttPort());
        assertEquals(restPort, hub.restPort());
        RegistryClient registryAfter = new RegistryClient(hub.hubConnectionString());
        TwinClient twinsAfter = new TwinClient(hub.hubConnectionString());
        Device deviceAfter = registryAfter.getDevice(id);
        assertEquals(deviceBefore.getPrimaryKey(), deviceAfter.getPrimaryKey());
        assertEquals(deviceBefore.getSecondaryKey(), deviceAfter.getSecondaryKey());
        assertEquals(deviceBefore.getETag(), deviceAfter.getETag());
        assertEquals(deviceBefore.getGenerationId(), deviceAfter.getGenerationId());
        assertEquals(deviceBefore.getStatus(), deviceAfter.getStatus());

        Twin after = twinsAfter.get(id);
        assertEquals(before.getETag(), after.getETag());
        assertEquals(before.getVersion(), after.getVersion());
        assertEquals(2, after.getDesiredProperties().getVersion());
        assertEquals(2, after.getReportedProperties().getVersion());
        assertEquals(Map.of("building", "43"), after.getTags().get("site"));
        assertEquals(21, ((Number) after.getDesiredProperties().get("setpoint")).intValue());
        assertEquals("1.0", after.getReportedProperties().get("firmware"));
        assertEquals("DISCONNECTED", after.getConnectionState());

        // The device still authenticates with its stored key, and the hub serves it as before.
        DeviceClient again = TestDevices.connect(device);
        try {
            again.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, name), null);
            again.subscribeToDesiredProperties((t, ctx) -> { }, null);
            assertEquals(2, TestDevices.getTwin(again).getReportedProperties().getVersion());
            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(id, "afterRestart",
                    DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(5).build());
            assertEquals(200, response.getStatus());
            assertEquals("CONNECTED", twinsAfter.get(id).getConnectionState());
        } finally {
            again.close();
        }
        // The old clients keep working too (the JDK reconnects its pooled HTTPS connections).
        assertEquals(id, registry.getDevice(id).getDeviceId());
    }
}
