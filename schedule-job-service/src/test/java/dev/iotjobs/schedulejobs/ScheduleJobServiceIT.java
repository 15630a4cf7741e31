package dev.iotjobs.schedulejobs;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.AppProcess;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.simdevice.SimDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tutorial as a user runs it, each app in its own JVM with the unmodified SDKs against a local hub: the
 * whole flow, and every way a first run of the service goes wrong, each ending within seconds with exit code
 * 1 (jobs not successful), 2 (bad settings) or 3 (hub unreachable or refusing), one plain sentence, no key.
 */
@ExtendWith(LocalHubExtension.class)
class ScheduleJobServiceIT {
    private static final Duration FAIL_FAST = Duration.ofSeconds(15);
    private static final String KEY = WellKnownKeys.IOTHUBOWNER_KEY;
    private static final String HUB = WellKnownKeys.HUB_CONNECTION_STRING;

    @Test
    void tutorial_bothJobsCompleteAndTheDeviceSeesThem(LocalHub hub) throws Exception {
        String serviceOutput;
        try (AppProcess device = AppProcess.of(SimDevice.class).reaching(hub).start(WellKnownKeys.DEVICE_CONNECTION_STRING)) {
            // Started first, as in the tutorial: desired-property changes reach only devices connected at the time.
            device.awaitOutput("waiting for commands", Duration.ofSeconds(30));
            try (AppProcess service = AppProcess.of(ScheduleJobService.class).reaching(hub)
                    .env("POLL_INTERVAL_SECONDS", "1").start(HUB)) {
                assertEquals(0, service.awaitExit(Duration.ofSeconds(90)), service.output());
                serviceOutput = service.output();
            }
            device.awaitOutput("\"building\":43", Duration.ofSeconds(10));

            assertTrue(device.output().contains("Locking Door!"), device.output());
            String text = serviceOutput;
            assertTrue(text.contains("myDeviceId: completed, the device answered 200 {\"Response\":\"lockDoor called successfully\"}"), text);
            assertTrue(text.contains("Both jobs completed on every device."), text);
            assertTrue(text.contains("SharedAccessKey=<hidden>"), text);
            assertFalse(text.contains(KEY), "the service printed the key:\n" + text);
        }
    }

    @Test
    void unknownDevice_exits1SayingTheJobsMatchedNoDevice(LocalHub hub) throws Exception {
        try (AppProcess service = AppProcess.of(ScheduleJobService.class).reaching(hub)
                .env("POLL_INTERVAL_SECONDS", "1").start(HUB, "no-such-device")) {
            assertEquals(1, service.awaitExit(Duration.ofSeconds(60)), service.output());
            assertTrue(service.output().contains("matched no device; is the device id right?"), service.output());
        }
    }

    @Test
    void ctrlC_whileFollowingTheJobs_saysTheJobsGoOn(LocalHub hub) throws Exception {
        // No device is connected, so the method job waits for it and the service keeps polling, saying why.
        try (AppProcess service = AppProcess.of(ScheduleJobService.class).reaching(hub)
                .env("POLL_INTERVAL_SECONDS", "1").start(HUB)) {
            service.awaitOutput("press Ctrl-C to exit", Duration.ofSeconds(30));
            service.awaitOutput("the job waits up to 30 s for the device to connect", Duration.ofSeconds(30));
            service.pressCtrlC();
            assertEquals(130, service.awaitExit(Duration.ofSeconds(15)), service.output());
            assertTrue(service.output().contains("Stopped; the jobs go on running on the hub"), service.output());
        }
    }

    @Test
    void wrongKey_exits3NamingTheHost(LocalHub hub) throws Exception {
        String wrongKey = "A" + KEY.substring(1);
        assertFailsFast(hub, 3, "HostName=127.0.0.1;SharedAccessKeyName=iothubowner;SharedAccessKey=" + wrongKey,
                "The hub 127.0.0.1 refused the credentials", wrongKey);
    }

    @Test
    void malformedKey_exits2(LocalHub hub) throws Exception {
        // A typo in a key's last character makes it invalid base64 more often than not.
        String typo = KEY.substring(0, KEY.length() - 2) + "V=";
        assertFailsFast(hub, 2, "HostName=127.0.0.1;SharedAccessKeyName=iothubowner;SharedAccessKey=" + typo,
                "The hub connection string is malformed", typo);
    }

    @Test
    void wrongHost_exits3NamingTheHost(LocalHub hub) throws Exception {
        assertFailsFast(null, 3, "HostName=no-such-hub.invalid;SharedAccessKeyName=iothubowner;SharedAccessKey=" + KEY,
                "Could not reach the hub no-such-hub.invalid", KEY);
    }

    @Test
    void hubNotRunning_exits3NamingTheHost(LocalHub hub) throws Exception {
        // Nothing listens on 127.0.0.2 (the hub binds 127.0.0.1): what a stopped hub looks like to the service.
        assertFailsFast(null, 3, "HostName=127.0.0.2;SharedAccessKeyName=iothubowner;SharedAccessKey=" + KEY,
                "Could not reach the hub 127.0.0.2", KEY);
    }

    @Test
    void noConnectionString_exits2WithUsage(LocalHub hub) throws Exception {
        assertFailsFast(null, 2, null, "Usage: ScheduleJobService <hub connection string>", KEY);
    }

    private static void assertFailsFast(LocalHub hub, int exitCode, String connectionString, String message,
                                        String secret) throws Exception {
        AppProcess.Builder app = hub == null ? AppProcess.of(ScheduleJobService.class) : AppProcess.of(ScheduleJobService.class).reaching(hub);
        app.assertStops(FAIL_FAST, exitCode, message, secret, connectionString == null ? new String[0] : new String[]{connectionString});
    }
}
