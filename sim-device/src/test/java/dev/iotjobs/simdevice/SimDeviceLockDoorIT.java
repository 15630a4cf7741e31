package dev.iotjobs.simdevice;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SimDevice with no configuration (the local hub's default device) against a running local hub, called the
 * way a back end calls it: the unmodified DirectMethodsClient invokes lockDoor.
 */
@ExtendWith(LocalHubExtension.class)
class SimDeviceLockDoorIT {

    @Test
    void lockDoor_answers200WithTheSamplesPayload(LocalHub hub) throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        String connectionString = SimDevice.connectionString(new String[0], Map.of());
        assertEquals(WellKnownKeys.DEVICE_CONNECTION_STRING, connectionString);

        DeviceClient device = SimDevice.start(connectionString, out);
        try {
            DirectMethodResponse response = new DirectMethodsClient(hub.hubConnectionString())
                    .invoke(WellKnownKeys.DEFAULT_DEVICE_ID, "lockDoor");
            assertEquals(200, response.getStatus());
            assertEquals("{\"Response\":\"lockDoor called successfully\"}", response.getPayloadAsJsonString());
            assertTrue(output.toString(StandardCharsets.UTF_8).contains("Locking Door!"));

            DirectMethodResponse unknown = new DirectMethodsClient(hub.hubConnectionString())
                    .invoke(WellKnownKeys.DEFAULT_DEVICE_ID, "openWindow");
            assertEquals(404, unknown.getStatus());
            assertTrue(unknown.getPayloadAsJsonString().contains("openWindow"));
        } finally {
            SimDevice.stop(device, out);
        }
    }
}
