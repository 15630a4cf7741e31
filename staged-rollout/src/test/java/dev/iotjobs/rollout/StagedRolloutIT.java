package dev.iotjobs.rollout;

import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.AppProcess;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rollout app in its own JVM with the unmodified service SDK, against a simulated fleet in rings: it completes
 * on a healthy fleet, and aborts in the first wave whose failures cross the threshold on a sick one.
 */
@ExtendWith(LocalHubExtension.class)
class StagedRolloutIT {
    static final Duration RUN_LIMIT = Duration.ofSeconds(240);

    @Test
    void healthyFleet_everyWaveSucceeds_exit0(LocalHub hub) throws Exception {
        healthy(hub);
    }

    @Test
    void sickFleet_abortsInTheFirstWaveOverTheThreshold_exit1(LocalHub hub) throws Exception {
        sick(hub);
    }

    static void healthy(LocalHub hub) throws Exception {
        try (RolloutFleet fleet = new RolloutFleet(hub, FleetSimulator.Faults.HEALTHY);
             AppProcess rollout = start(hub, fleet, "2.0.0")) {
            assertEquals(0, rollout.awaitExit(RUN_LIMIT), rollout.output());
            String out = rollout.output();
            System.out.println(out);
            assertTrue(out.contains("Wave canary: 6 device(s)"), out);
            assertTrue(out.contains("Wave early: 14 device(s)"), out);
            assertTrue(out.contains("Wave rest: 40 device(s)"), out);
            assertTrue(out.contains("40 of 40 device(s) report firmwareVersion = 2.0.0"), out);
            assertTrue(out.contains("Rollout complete"), out);
            assertTrue(out.contains("  rest     40 device(s): 40 succeeded, 0 failed (0 %)"), out);
        }
    }

    static void sick(LocalHub hub) throws Exception {
        // Half the devices never report the new version back.
        FleetSimulator.Faults faults = new FleetSimulator.Faults(0, 0, 0.5);
        try (RolloutFleet fleet = new RolloutFleet(hub, faults);
             AppProcess rollout = start(hub, fleet, "2.1.0")) {
            assertEquals(1, rollout.awaitExit(RUN_LIMIT), rollout.output());
            String out = rollout.output();
            System.out.println(out);
            String abortedIn = null;
            for (Map.Entry<String, List<String>> wave : fleet.waves.entrySet()) {
                long sick = wave.getValue().stream().filter(faults::noReport).count();
                if (wave.getValue().size() >= 5 && sick * 10 > wave.getValue().size()) {
                    abortedIn = wave.getKey();
                    break;
                }
            }
            assertTrue(out.contains("ABORTED in wave " + abortedIn), out);
            List<String> waves = List.copyOf(fleet.waves.keySet());
            for (String later : waves.subList(waves.indexOf(abortedIn) + 1, waves.size())) {
                assertFalse(out.contains("Wave " + later + ":"), "no wave after the abort:\n" + out);
            }
        }
    }

    static AppProcess start(LocalHub hub, RolloutFleet fleet, String version) throws Exception {
        return AppProcess.of(StagedRollout.class).reaching(hub)
                .env("ROLLOUT_CONDITION", fleet.condition())
                .env("ROLLOUT_VERSION", version)
                .env("ROLLOUT_MIN_DEVICES", "5")
                .env("ROLLOUT_CONFIRM_SECONDS", "10")
                .env("POLL_INTERVAL_SECONDS", "1")
                .start(WellKnownKeys.HUB_CONNECTION_STRING);
    }
}
