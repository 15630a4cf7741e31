package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up rehearsal (issue 14): it runs every round of jobs, queries and calls against a scratch hub of its
 * own, through the real endpoints, and leaves nothing behind in the real hub or on disk; stopping the hub stops it.
 */
class WarmUpTest {
    private static final WarmUp.Plan SMALL = new WarmUp.Plan(300, 30, 2);

    private static HubConfig config(Path dir) {
        return HubConfig.builder().dataDirectory(dir).mqttPort(0).restPort(0).proxyPort(0).build();
    }

    @Test
    void rehearsesEveryRoundOnAScratchHubAndLeavesNothingBehind(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(config(dir))) {
            WarmUp warmUp = WarmUp.start(hub.config(), SMALL);
            long deadline = System.currentTimeMillis() + 120_000;
            while (!warmUp.ended() && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(warmUp.ended(), "the rehearsal ends by itself");
            assertNull(warmUp.failure(), () -> "rehearsal failed: " + warmUp.failure());
            assertEquals(SMALL.rounds(), warmUp.rounds(), "every round rehearsed");
            assertNotNull(warmUp.directory());
            assertFalse(Files.exists(warmUp.directory()), "the scratch hub's directory is deleted");
            // The real hub never saw the rehearsal's devices.
            assertThrows(RuntimeException.class, () -> hub.deviceConnectionString("warm-up-0"));
        }
    }

    @Test
    void stoppingTheHubStopsTheRehearsal(@TempDir Path dir) {
        LocalHub hub = LocalHub.start(config(dir).toBuilder().warmUp(true).build());
        assertFalse(hub.warmUpEnded(), "a hub configured to warm up rehearses in the background");
        long start = System.nanoTime();
        hub.stop();
        assertTrue(hub.warmUpEnded());
        assertTrue(System.nanoTime() - start < 20_000_000_000L, "stop does not wait for the rehearsal's rounds");
    }

    @Test
    void aStoppedRehearsalDeletesItsFilesAndReportsNoFailure(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(config(dir))) {
            WarmUp warmUp = WarmUp.start(hub.config());
            long deadline = System.currentTimeMillis() + 30_000;
            while (warmUp.directory() == null && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            Thread.sleep(500); // into the rehearsal
            warmUp.close();
            assertTrue(warmUp.ended());
            assertNull(warmUp.failure(), () -> "a stop is no failure: " + warmUp.failure());
            assertTrue(warmUp.rounds() < WarmUp.Plan.DEFAULT.rounds(), "stopped before its last round");
            assertFalse(Files.exists(warmUp.directory()), "the scratch hub's directory is deleted");
        }
    }
}
