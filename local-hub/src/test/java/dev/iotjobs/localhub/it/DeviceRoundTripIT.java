package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The unmodified device and service SDKs talking to each other through the local hub. */
@ExtendWith(LocalHubExtension.class)
class DeviceRoundTripIT {

    @Test
    void invokeMethod_roundTripsStatusAndPayload(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("method"));
        DeviceClient client = TestDevices.connect(device);
        try {
            client.subscribeToMethods((name, payload, ctx) ->
                    new DirectMethodResponse(201, Map.of("echo", name + ":" + payload.getPayloadAsJsonString())), null);
            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(device.getDeviceId(), "ping",
                    DirectMethodRequestOptions.builder().payload(Map.of("a", 1)).methodResponseTimeoutSeconds(10).build());
            assertEquals(201, response.getStatus());
            assertEquals("{\"echo\":\"ping:{\\\"a\\\":1}\"}", response.getPayloadAsJsonString());
        } finally {
            client.close();
        }
    }

    @Test
    void invokeMethod_onDisconnectedDevice_is404103(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("offline"));
        IotHubException e = assertThrows(IotHubException.class, () -> new DirectMethodsClient(hub.hubConnectionString())
                .invoke(device.getDeviceId(), "ping", DirectMethodRequestOptions.builder().methodConnectTimeoutSeconds(1).build()));
        assertEquals(404103, e.getErrorCode());
    }

    @Test
    void twinPatch_reachesDeviceAndReportedComesBack(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("twin"));
        DeviceClient client = TestDevices.connect(device);
        BlockingQueue<com.microsoft.azure.sdk.iot.device.twin.Twin> patches = new LinkedBlockingQueue<>();
        try {
            client.subscribeToDesiredProperties((twin, ctx) -> patches.add(twin), null);
            TwinClient twins = new TwinClient(hub.hubConnectionString());
            Twin twin = twins.get(device.getDeviceId());
            twin.getDesiredProperties().put("building", 43);
            Twin patched = twins.patch(twin);
            assertEquals(2, patched.getDesiredProperties().getVersion());

            com.microsoft.azure.sdk.iot.device.twin.Twin received = patches.poll(10, TimeUnit.SECONDS);
            assertNotNull(received, "desired patch not delivered");
            assertEquals(43, ((Number) received.getDesiredProperties().get("building")).intValue());
            assertEquals(2, received.getDesiredProperties().getVersion());

            TwinCollection reported = new TwinCollection();
            reported.put("door", "locked");
            assertEquals(2, TestDevices.updateReported(client, reported, hub, device.getDeviceId()));
            Twin after = twins.get(device.getDeviceId());
            assertEquals("locked", after.getReportedProperties().get("door"));
            assertTrue(after.getVersion() >= 3);
        } finally {
            client.close();
        }
    }
}
