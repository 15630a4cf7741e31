package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubGatewayTimeoutException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Direct methods through the unmodified DirectMethodsClient and a DeviceClient over MQTT. */
@ExtendWith(LocalHubExtension.class)
class DirectMethodIT {
    private LocalHub hub;
    private DirectMethodsClient methods;

    @BeforeEach
    void newClient(LocalHub hub) {
        this.hub = hub;
        methods = new DirectMethodsClient(hub.hubConnectionString());
    }

    private static DirectMethodRequestOptions options(Object payload, int responseTimeout, int connectTimeout) {
        return DirectMethodRequestOptions.builder().payload(payload)
                .methodResponseTimeoutSeconds(responseTimeout).methodConnectTimeoutSeconds(connectTimeout).build();
    }

    /** The device answers method "status-N" with status N and the request payload, unchanged. */
    private static DeviceClient echoDevice(Device device) throws Exception {
        DeviceClient client = TestDevices.connect(device);
        client.subscribeToMethods((name, payload, ctx) ->
                new DirectMethodResponse(Integer.parseInt(name.substring("status-".length())),
                        payload.getPayloadAsJsonElement()), null);
        return client;
    }

    @Test
    void invoke_roundTripsEveryPayloadTypeAndStatus() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("dm-echo"));
        DeviceClient client = echoDevice(device);
        try {
            Object[] payloads = {null, "text with \"quotes\"", 42, 3.5, true,
                    Map.of("nested", Map.of("k", "v")), List.of(1, "two", false), List.of()};
            String[] expected = {"null", "\"text with \\\"quotes\\\"\"", "42", "3.5", "true",
                    "{\"nested\":{\"k\":\"v\"}}", "[1,\"two\",false]", "[]"};
            int[] statuses = {200, 1, 404, 500, 998, 201, 403, 0};
            for (int i = 0; i < payloads.length; i++) {
                var response = methods.invoke(device.getDeviceId(), "status-" + statuses[i], options(payloads[i], 10, 0));
                assertEquals(statuses[i], response.getStatus(), "status for payload " + payloads[i]);
                assertEquals(expected[i], response.getPayloadAsJsonString(), "payload " + Arrays.toString(new Object[]{payloads[i]}));
            }
        } finally {
            client.close();
        }
    }

    @Test
    void invoke_unknownDeviceIs404001() {
        IotHubException e = assertThrows(IotHubNotFoundException.class,
                () -> methods.invoke(TestDevices.uniqueId("dm-nobody"), "status-200", options(null, 5, 0)));
        assertEquals(404001, e.getErrorCode());
    }

    @Test
    void invoke_offlineDeviceWithoutConnectTimeoutIs404103AtOnce() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("dm-offline0"));
        long start = System.nanoTime();
        IotHubException e = assertThrows(IotHubNotFoundException.class,
                () -> methods.invoke(device.getDeviceId(), "status-200", options(null, 5, 0)));
        assertEquals(404103, e.getErrorCode());
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2000, "should not wait");
    }

    @Test
    void invoke_offlineDeviceIs404103AfterTheConnectTimeout() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("dm-offline2"));
        long start = System.nanoTime();
        IotHubException e = assertThrows(IotHubNotFoundException.class,
                () -> methods.invoke(device.getDeviceId(), "status-200", options(null, 5, 2)));
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(404103, e.getErrorCode());
        assertTrue(waited >= 1900 && waited < 6000, "waited " + waited + " ms for a 2 s connect timeout");
    }

    @Test
    void invoke_deviceThatConnectsWithinTheConnectTimeoutGetsTheCall() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("dm-late"));
        CompletableFuture<com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse> call = CompletableFuture.supplyAsync(() -> {
            try {
                return methods.invoke(device.getDeviceId(), "status-202", options("wake", 5, 15));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(500);
        assertTrue(!call.isDone(), "the call must wait for the device");
        DeviceClient client = echoDevice(device);
        try {
            var response = call.get(15, TimeUnit.SECONDS);
            assertEquals(202, response.getStatus());
            assertEquals("\"wake\"", response.getPayloadAsJsonString());
        } finally {
            client.close();
        }
    }

    @Test
    void invoke_connectedDeviceNotSubscribedToMethodsIs404103() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("dm-nosub"));
        DeviceClient client = TestDevices.connect(device);
        try {
            IotHubException e = assertThrows(IotHubNotFoundException.class,
                    () -> methods.invoke(device.getDeviceId(), "status-200", options(null, 5, 0)));
            assertEquals(404103, e.getErrorCode());
            IotHubException waited = assertThrows(IotHubNotFoundException.class,
                    () -> methods.invoke(device.getDeviceId(), "status-200", options(null, 5, 1)));
            assertEquals(404103, waited.getErrorCode());
        } finally {
            client.close();
        }
    }

    @Test
    void invoke_slowDeviceIs504101AndTheNextCallSucceeds() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("dm-slow"));
        DeviceClient client = TestDevices.connect(device);
        AtomicInteger calls = new AtomicInteger();
        try {
            client.subscribeToMethods((name, payload, ctx) -> {
                if (calls.incrementAndGet() == 1) {
                    try {
                        Thread.sleep(6500); // longer than the 5 s response timeout
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return new DirectMethodResponse(200, "too late");
                }
                return new DirectMethodResponse(200, "on time");
            }, null);

            long start = System.nanoTime();
            IotHubException e = assertThrows(IotHubGatewayTimeoutException.class,
                    () -> methods.invoke(device.getDeviceId(), "slow", options(null, 5, 0)));
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(504101, e.getErrorCode());
            assertTrue(waited >= 4900 && waited < 6400, "504 after " + waited + " ms for a 5 s response timeout");

            var next = methods.invoke(device.getDeviceId(), "slow", options(null, 5, 0));
            assertEquals(200, next.getStatus());
            assertEquals("\"on time\"", next.getPayloadAsJsonString(), "the late answer must not be taken for this call");
        } finally {
            client.close();
        }
    }
}
