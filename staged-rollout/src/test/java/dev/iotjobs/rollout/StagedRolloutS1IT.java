package dev.iotjobs.rollout;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.HubTier;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The same two rollouts on a hub with IoT Hub S1's limits: one job at a time, 10 device operations per second,
 * 20 queries per minute (the app's queries are then slowed down, not refused).
 */
@ExtendWith(LocalHubExtension.class)
@HubTier("S1")
class StagedRolloutS1IT {
    @Test
    void healthyFleet_completes(LocalHub hub) throws Exception {
        StagedRolloutIT.healthy(hub);
    }

    @Test
    void sickFleet_aborts(LocalHub hub) throws Exception {
        StagedRolloutIT.sick(hub);
    }
}
