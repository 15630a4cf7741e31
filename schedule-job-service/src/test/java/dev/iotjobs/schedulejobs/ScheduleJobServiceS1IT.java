package dev.iotjobs.schedulejobs;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.AppProcess;
import dev.iotjobs.localhub.junit.HubTier;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.simdevice.SimDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tutorial's service against a hub with IoT Hub S1's limits (one active job at a time): the twin job is
 * refused with 429004 while the method job waits for the device, the service says so and retries, and once
 * the device has answered both jobs complete and the service exits 0.
 */
@ExtendWith(LocalHubExtension.class)
@HubTier("S1")
class ScheduleJobServiceS1IT {
    @Test
    void secondJobIsRetriedUntilTheFirstHasEnded_thenBothComplete(LocalHub hub) throws Exception {
        try (AppProcess service = AppProcess.of(ScheduleJobService.class).reaching(hub)
                .env("POLL_INTERVAL_SECONDS", "1").start(WellKnownKeys.HUB_CONNECTION_STRING)) {
            // No device yet: the method job waits for it to connect, so the twin job is refused and retried.
            service.awaitOutput("(429004, its tier's limit): retrying in 2 s", Duration.ofSeconds(30));
            try (AppProcess device = AppProcess.of(SimDevice.class).reaching(hub)
                    .start(WellKnownKeys.DEVICE_CONNECTION_STRING)) {
                assertEquals(0, service.awaitExit(Duration.ofSeconds(120)), service.output());
                String text = service.output();
                assertTrue(text.contains("myDeviceId: completed, the device answered 200"), text);
                assertTrue(text.contains("Both jobs completed on every device."), text);
                device.awaitOutput("\"building\":43", Duration.ofSeconds(20));
            }
        }
    }
}
