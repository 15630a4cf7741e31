package com.example.thermostat;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubDevices;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A user's device code, tested with the unmodified SDKs against the local hub the test kit starts. */
@ExtendWith(LocalHubExtension.class)
class ThermostatIT {

    @Test
    void theDeviceAnswersADirectMethodFromTheBackEnd(LocalHub hub) throws Exception {
        String deviceId = LocalHubDevices.uniqueId("thermostat");
        String connectionString = LocalHubDevices.registerDevice(hub, deviceId);

        DeviceClient device = LocalHubDevices.deviceClient(hub, connectionString, IotHubClientProtocol.MQTT);
        try {
            device.open(true);
            device.subscribeToMethods((methodName, payload, context) -> methodName.equals("setTemperature")
                    ? new DirectMethodResponse(200, Map.of("setPoint", payload.getPayload(Integer.class)))
                    : new DirectMethodResponse(404, null), null);

            DirectMethodsClient methods = new DirectMethodsClient(hub.hubConnectionString());
            var result = methods.invoke(deviceId, "setTemperature",
                    DirectMethodRequestOptions.builder().payload(21).methodResponseTimeoutSeconds(30).build());

            assertEquals(200, result.getStatus());
            assertEquals("{\"setPoint\":21}", result.getPayloadAsJsonString());
        } finally {
            device.close();
        }
    }
}
