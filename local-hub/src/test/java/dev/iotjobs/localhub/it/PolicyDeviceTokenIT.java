package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A device connecting with a token a token service made: {@code sr={host}/devices/{id}} signed with the key of a hub
 * policy that grants DeviceConnect and naming it in {@code skn} (IoT Hub's "Control access to IoT Hub with shared
 * access signatures", security tokens from service components). The unmodified DeviceClient takes it from a
 * {@code SasTokenProvider}; over MQTT and AMQPS the device is served as with its own key. A policy without
 * DeviceConnect, a wrong key or another device's resource is refused.
 */
@ExtendWith(LocalHubExtension.class)
class PolicyDeviceTokenIT {

    private static String token(String deviceId, String policy, String key) {
        return SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + deviceId, key, policy,
                Instant.now().getEpochSecond() + 3600);
    }

    private static DeviceClient client(String deviceId, String token, IotHubClientProtocol protocol) {
        return new DeviceClient(WellKnownKeys.HOST_NAME, deviceId, token::toCharArray, protocol,
                ClientOptions.builder().build());
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS"})
    void aTokenOfTheDevicePolicy_connectsTheDevice(IotHubClientProtocol protocol, LocalHub hub) throws Exception {
        for (String[] policy : new String[][]{{"device", WellKnownKeys.DEVICE_POLICY_KEY},
                {"iothubowner", WellKnownKeys.IOTHUBOWNER_KEY}}) {
            Device device = TestDevices.register(hub, TestDevices.uniqueId("policy-token"));
            DeviceClient client = client(device.getDeviceId(), token(device.getDeviceId(), policy[0], policy[1]), protocol);
            try {
                client.open(false);
                CompletableFuture<IotHubClientException> sent = new CompletableFuture<>();
                client.sendEventAsync(new Message("{\"t\":1}".getBytes(StandardCharsets.UTF_8)),
                        (m, e, ctx) -> sent.complete(e), null);
                assertNull(sent.get(30, TimeUnit.SECONDS), "telemetry accepted");
                client.subscribeToMethods((name, payload, ctx) -> new DirectMethodResponse(200, policy[0]), null);
                var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(device.getDeviceId(), "who",
                        DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10)
                                .methodConnectTimeoutSeconds(10).build());
                assertEquals(200, response.getStatus());
                assertEquals(policy[0], response.getPayload(String.class));
            } finally {
                client.close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS"})
    void aPolicyWithoutDeviceConnect_aWrongKeyOrAnotherDevice_isRefused(IotHubClientProtocol protocol, LocalHub hub)
            throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("policy-refused"));
        String id = device.getDeviceId();
        assertRefused(client(id, token(id, "service", WellKnownKeys.SERVICE_KEY), protocol));
        assertRefused(client(id, token(id, "device", WellKnownKeys.SERVICE_KEY), protocol));
        assertRefused(client(id, token(WellKnownKeys.DEFAULT_DEVICE_ID, "device", WellKnownKeys.DEVICE_POLICY_KEY), protocol));
    }

    private static void assertRefused(DeviceClient client) {
        try {
            IotHubClientException e = assertThrows(IotHubClientException.class, () -> client.open(false));
            assertEquals(IotHubStatusCode.UNAUTHORIZED, e.getStatusCode(), e.toString());
        } finally {
            client.close();
        }
    }
}
