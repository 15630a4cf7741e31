package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.c2d.C2dAck;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Cloud-to-device messages to the unmodified device SDK over MQTT, and direct methods to a device that comes
 * online while the call waits for it.
 */
@ExtendWith(LocalHubExtension.class)
class CloudToDeviceIT {

    @Test
    void aMethodCallWaitingForADeviceReachesItWhenItComesOnlineAgain(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-late"));
        String id = device.getDeviceId();
        // The device was connected before and listened to methods: its persistent session remembers that.
        DeviceClient before = TestDevices.connect(device);
        before.subscribeToMethods((name, payload, ctx) -> new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, "before"), null);
        before.close();
        var registry = new com.microsoft.azure.sdk.iot.service.registry.RegistryClient(hub.hubConnectionString());
        long until = System.currentTimeMillis() + 10_000;
        while (registry.getDevice(id).getConnectionState().toString().equalsIgnoreCase("connected")
                && System.currentTimeMillis() < until) {
            Thread.sleep(20); // the hub sees the disconnect a moment after close() returns
        }

        DirectMethodsClient methods = new DirectMethodsClient(hub.hubConnectionString());
        CompletableFuture<DirectMethodResponse> call = CompletableFuture.supplyAsync(() -> {
            try {
                return methods.invoke(id, "wake", DirectMethodRequestOptions.builder()
                        .methodConnectTimeoutSeconds(30).methodResponseTimeoutSeconds(10).build());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(1500); // the call now waits for the device
        DeviceClient after = TestDevices.connect(device);
        try {
            after.subscribeToMethods((name, payload, ctx) -> new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, "after"), null);
            DirectMethodResponse response = call.get(40, TimeUnit.SECONDS);
            assertEquals(200, response.getStatus());
            assertEquals("after", response.getPayload(String.class));
        } finally {
            after.close();
        }
    }

    @Test
    void queuedMessagesReachTheDeviceWithTheirProperties_overMqttAndWebSockets(LocalHub hub) throws Exception {
        for (IotHubClientProtocol protocol : new IotHubClientProtocol[]{IotHubClientProtocol.MQTT, IotHubClientProtocol.MQTT_WS}) {
            Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-recv"));
            String id = device.getDeviceId();
            hub.cloudToDevice().send(new C2dSend(id, "hello".getBytes(StandardCharsets.UTF_8),
                    Map.of("color", "light blue", "a&b", "x=y"), "m-1", "c-1", null, "text/plain", "utf-8",
                    C2dAck.FULL, null));
            assertEquals(1, hub.cloudToDevice().depth(id));
            LinkedBlockingQueue<Message> received = new LinkedBlockingQueue<>();
            DeviceClient client = protocol == IotHubClientProtocol.MQTT_WS
                    ? TestDevices.webSocketClient(hub, TestDevices.connectionString(device))
                    : new DeviceClient(TestDevices.connectionString(device), protocol);
            client.setMessageCallback((message, ctx) -> {
                received.add(message);
                return IotHubMessageResult.COMPLETE;
            }, null);
            client.open(false);
            try {
                Message m = received.poll(20, TimeUnit.SECONDS);
                assertNotNull(m, "the queued message arrives on connect (" + protocol + ")");
                assertEquals("hello", new String(m.getBytes(), StandardCharsets.UTF_8));
                assertEquals("m-1", m.getMessageId());
                assertEquals("c-1", m.getCorrelationId());
                assertEquals("light blue", m.getProperty("color"));
                assertEquals("x=y", m.getProperty("a&b"));
                long deadline = System.currentTimeMillis() + 10_000;
                while (hub.cloudToDevice().depth(id) > 0 && System.currentTimeMillis() < deadline) {
                    Thread.sleep(50);
                }
                assertEquals(0, hub.cloudToDevice().depth(id), "the PUBACK completed it");
            } finally {
                client.close();
            }
        }
    }

    @Test
    void theFiftyFirstMessageIsRefused_andPurgeEmptiesTheQueue(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-full"));
        String id = device.getDeviceId();
        for (int i = 0; i < 50; i++) {
            hub.cloudToDevice().send(C2dSend.of(id, new byte[]{(byte) i}));
        }
        HubException full = assertThrows(HubException.class,
                () -> hub.cloudToDevice().send(C2dSend.of(id, new byte[]{1})));
        assertEquals(ErrorCode.DEVICE_MAXIMUM_QUEUE_DEPTH_EXCEEDED, full.errorCode());
        assertEquals(50, new com.microsoft.azure.sdk.iot.service.registry.RegistryClient(hub.hubConnectionString())
                .getDevice(id).getCloudToDeviceMessageCount());
        RawHttps.Response purged = RawHttps.send("DELETE", RawHttps.withApiVersion("/devices/" + id + "/commands"), null);
        assertEquals(200, purged.status(), purged.body());
        assertEquals(50, purged.json().get("totalMessagesPurged").asInt());
        assertEquals(0, hub.cloudToDevice().depth(id));
    }
}
