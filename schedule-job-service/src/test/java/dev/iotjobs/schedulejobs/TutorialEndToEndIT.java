package dev.iotjobs.schedulejobs;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.simdevice.SimDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole tutorial, as a newcomer runs it: the real SimDevice and ScheduleJobService code, unmodified
 * SDKs, against a local hub. Both jobs must complete, and each app must print what the tutorial promises.
 */
@ExtendWith(LocalHubExtension.class)
class TutorialEndToEndIT {

    @Test
    void tutorial_bothJobsCompleteAndTheDeviceSeesThem(LocalHub hub) throws Exception {
        ByteArrayOutputStream deviceOutput = new ByteArrayOutputStream();
        ByteArrayOutputStream serviceOutput = new ByteArrayOutputStream();
        PrintStream deviceOut = new PrintStream(deviceOutput, true, StandardCharsets.UTF_8);
        PrintStream serviceOut = new PrintStream(serviceOutput, true, StandardCharsets.UTF_8);

        DeviceClient device = SimDevice.start(WellKnownKeys.DEVICE_CONNECTION_STRING, deviceOut);
        int exitCode;
        try {
            exitCode = ScheduleJobService.run(new String[0], Map.of("POLL_INTERVAL_SECONDS", "1"), serviceOut);
            // The desired-property notification may land a moment after the job reports completion.
            waitFor(() -> deviceOutput.toString(StandardCharsets.UTF_8).contains("43"), 10_000);
        } finally {
            SimDevice.stop(device, deviceOut);
        }

        String deviceText = deviceOutput.toString(StandardCharsets.UTF_8);
        String serviceText = serviceOutput.toString(StandardCharsets.UTF_8);
        assertEquals(0, exitCode, () -> "service exit code; its output:\n" + serviceText);
        assertTrue(deviceText.contains("Locking Door!"), deviceText);
        assertTrue(deviceText.contains("\"building\":43") || deviceText.contains("building=43")
                || deviceText.contains("building: 43"), deviceText);
        assertTrue(deviceText.contains("floor"), deviceText);
        assertTrue(serviceText.contains("lockDoor called successfully"), serviceText);
        assertTrue(serviceText.contains("200"), serviceText);
        assertTrue(!serviceText.contains(WellKnownKeys.IOTHUBOWNER_KEY), "the service app printed a key");
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
    }
}
