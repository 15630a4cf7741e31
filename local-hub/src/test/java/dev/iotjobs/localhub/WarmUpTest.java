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
 * The warm-up rehearsal (issue 14): it starts once the hub holds a fleet, runs every round of jobs, queries and
 * calls against a scratch hub of its own through the real endpoints, and leaves nothing behind in the real hub or
 * on disk; stopping the hub stops it.
 */
class WarmUpTest {
    /** Small rounds; "a fleet" is one device, which every hub holds (the well-known default device). */
    private static final WarmUp.Plan SMALL = new WarmUp.Plan(300, 30, 2, 1, 100);

    private static HubConfig config(Path dir) {
        return HubConfig.builder().dataDirectory(dir).mqttPort(0).restPort(0).proxyPort(0).build();
    }

    private static WarmUp awaitStarted(LocalHub hub) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (hub.warmUp() == null && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertNotNull(hub.warmUp(), "the rehearsal starts once the hub holds a fleet");
        return hub.warmUp();
    }

    @Test
    void aHubWithAFleetRehearsesEveryRoundOnAScratchHubAndLeavesNothingBehind(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(config(dir))) {
            hub.armWarmUp(SMALL);
            WarmUp warmUp = awaitStarted(hub);
            long deadline = System.currentTimeMillis() + 120_000;
            while (!warmUp.ended() && System.currentTimeMillis() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(hub.warmUpEnded(), "the rehearsal ends by itself");
            assertNull(warmUp.failure(), () -> "rehearsal failed: " + warmUp.failure());
            assertEquals(SMALL.rounds(), warmUp.rounds(), "every round rehearsed");
            assertNotNull(warmUp.directory());
            assertFalse(Files.exists(warmUp.directory()), "the scratch hub's directory is deleted");
            // The real hub never saw the rehearsal's devices.
            assertThrows(RuntimeException.class, () -> hub.deviceConnectionString("warm-up-0"));
        }
    }

    @Test
    void aHubWithoutAFleetDoesNotRehearse(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(config(dir).toBuilder().warmUp(true).build())) {
            Thread.sleep(1500); // three checks
            assertNull(hub.warmUp(), "one registered device is no fleet: no CPU spent on a rehearsal");
            assertFalse(hub.warmUpEnded());
        }
    }

    @Test
    void stoppingTheHubStopsTheRehearsalAndDeletesItsFiles(@TempDir Path dir) throws Exception {
        LocalHub hub = LocalHub.start(config(dir));
        hub.armWarmUp(new WarmUp.Plan(4_000, 400, 12, 1, 100));
        WarmUp warmUp = awaitStarted(hub);
        long deadline = System.currentTimeMillis() + 30_000;
        while (warmUp.directory() == null && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(500); // into the rehearsal
        long start = System.nanoTime();
        hub.stop();
        assertTrue(System.nanoTime() - start < 20_000_000_000L, "stop does not wait for the rehearsal's rounds");
        assertTrue(warmUp.ended());
        assertNull(warmUp.failure(), () -> "a stop is no failure: " + warmUp.failure());
        assertTrue(warmUp.rounds() < 12, "stopped before its last round");
        assertFalse(Files.exists(warmUp.directory()), "the scratch hub's directory is deleted");
        assertNull(hub.warmUp());
    }
}
