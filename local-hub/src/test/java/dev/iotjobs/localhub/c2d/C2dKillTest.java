package dev.iotjobs.localhub.c2d;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.store.MvHubStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A hub killed (SIGKILL) with messages queued loses none it accepted, and brings back none it completed. */
class C2dKillTest {
    @TempDir
    Path tempDir;

    @Test
    void acceptedMessagesSurviveKill9_completedOnesDoNotComeBack() throws Exception {
        Path dataDir = tempDir.resolve("killed");
        Path out = tempDir.resolve("out.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KillableC2dHub.class.getName(), dataDir.toString())
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(out).contains("IDLE")) {
                assertTrue(child.isAlive() && System.nanoTime() < deadline, "the child did not finish its work");
                Thread.sleep(50);
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        List<String> done = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            if (line.startsWith("DONE ")) {
                done.add(line.substring(5));
            }
        }
        assertEquals(KillableC2dHub.COMPLETED, done.size());
        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
            DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
            C2dQueues queues = new C2dQueues(store, registry, Clock.systemUTC(), C2dSettings.DEFAULTS);
            try {
                assertEquals(KillableC2dHub.SENT - KillableC2dHub.COMPLETED, queues.depth("d1"));
                assertEquals(KillableC2dHub.SENT - KillableC2dHub.COMPLETED,
                        registry.find("d1").runtime().cloudToDeviceMessageCount());
                List<String> left = new ArrayList<>();
                for (C2dMessageState s : queues.list("d1")) {
                    left.add(s.message().messageId());
                    assertEquals("Enqueued", s.state(), "locks do not survive a restart");
                }
                for (int i = KillableC2dHub.COMPLETED; i < KillableC2dHub.SENT; i++) {
                    assertTrue(left.contains("m" + i), "m" + i + " was accepted and not completed");
                }
                done.forEach(id -> assertTrue(!left.contains(id), id + " was completed"));
            } finally {
                queues.close();
            }
        }
    }
}
