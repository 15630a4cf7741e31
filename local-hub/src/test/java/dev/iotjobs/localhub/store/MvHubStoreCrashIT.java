package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.store.HubStore.Bucket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.iotjobs.localhub.store.HubStoreContract.doc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store survives kill -9 of the JVM that writes to it: writers in child JVMs, killed mid-work. */
class MvHubStoreCrashIT {

    @TempDir
    Path tempDir;

    /**
     * Kills (SIGKILL) a child JVM that writes from several threads, then checks that every write it
     * acknowledged is in the store, and that every batch is all-or-nothing. While the child lives, the
     * store must refuse a second opener.
     */
    @Test
    void acknowledgedWritesSurviveKill9() throws Exception {
        Path dataDir = tempDir.resolve("killed");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The child writes its ACK lines straight into a file: Process.destroyForcibly() closes the pipes,
        // and every line the child wrote before dying must still be checked.
        Path ackFile = tempDir.resolve("acks.txt");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                KillableWriter.class.getName(), dataDir.toString())
                .redirectOutput(ackFile.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            while (!Files.readString(ackFile).startsWith("OPEN\n")) {
                assertTrue(child.isAlive() && System.nanoTime() < deadline, "child did not open the store");
                Thread.sleep(20);
            }
            IllegalStateException inUse = assertThrows(IllegalStateException.class, () -> MvHubStore.open(DataDirectory.storeFile(dataDir)));
            assertTrue(inUse.getMessage().contains("is in use by another local hub"), inUse.getMessage());
            // Kill it while it is busy writing.
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (Files.size(ackFile) < 300_000 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        List<String> acked = new ArrayList<>();
        List<String> batches = new ArrayList<>();
        String output = Files.readString(ackFile);
        // A line cut by the kill has no newline: its write was not acknowledged.
        for (String line : output.substring(0, output.lastIndexOf('\n') + 1).split("\n")) {
            record(line, acked, batches);
        }
        assertTrue(acked.size() > 100, "child acknowledged only " + acked.size() + " writes");

        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) { // opens a file left by a killed process
            for (String key : acked) {
                assertArrayEquals(KillableWriter.document(key), store.get(Bucket.DEVICES, key), key);
            }
            for (String prefix : batches) {
                for (int n = 0; n < KillableWriter.BATCH_SIZE; n++) {
                    Bucket bucket = n % 2 == 0 ? Bucket.JOBS : Bucket.DEVICE_JOBS;
                    assertArrayEquals(KillableWriter.document(prefix + "-" + n), store.get(bucket, prefix + "-" + n));
                }
            }
            // Batches that were in flight when the process died: all of it or none of it.
            store.forEach(Bucket.JOBS, (key, value) -> {
                String prefix = key.substring(0, key.lastIndexOf('-'));
                int present = 0;
                for (int n = 0; n < KillableWriter.BATCH_SIZE; n++) {
                    Bucket bucket = n % 2 == 0 ? Bucket.JOBS : Bucket.DEVICE_JOBS;
                    present += store.get(bucket, prefix + "-" + n) == null ? 0 : 1;
                }
                assertEquals(KillableWriter.BATCH_SIZE, present, "batch " + prefix + " is partial");
            });
            store.put(Bucket.DEVICES, "after-crash", doc("ok")); // and it is writable
        }
        System.out.printf("kill -9 test: %d acknowledged puts and %d batches survived%n", acked.size(), batches.size());
    }

    /**
     * The store reuses the space of old versions at once and compacts the file when idle: kills (SIGKILL)
     * a child that rewrites the same documents round after round, at moments spread over its writes and
     * its idle housekeeping, and checks that the file opens with every document whole and at least as new
     * as the last round the child saw acknowledged.
     */
    @Test
    void rewritesAndHousekeepingSurviveKill9() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int attempt = 0; attempt < 2; attempt++) {
            Path dataDir = tempDir.resolve("rewritten-" + attempt);
            Path outFile = tempDir.resolve("rounds-" + attempt + ".txt");
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    KillableRewriter.class.getName(), dataDir.toString())
                    .redirectOutput(outFile.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                // Past the second idle pause (the first compaction), then 0 or 400 ms on: inside the
                // housekeeping or the writes after it.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (Files.readString(outFile).split("IDLE", -1).length < 3) {
                    assertTrue(child.isAlive() && System.nanoTime() < deadline, "child did not reach its second idle pause");
                    Thread.sleep(10);
                }
                Thread.sleep(attempt * 400L);
                child.destroyForcibly();
                assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            } finally {
                child.destroyForcibly();
            }
            String output = Files.readString(outFile);
            int lastRound = -1;
            for (String line : output.substring(0, output.lastIndexOf('\n') + 1).split("\n")) {
                if (line.startsWith("ROUND ")) {
                    lastRound = Integer.parseInt(line.substring(6));
                }
            }
            assertTrue(lastRound >= 3, "the child acknowledged only " + (lastRound + 1) + " rounds");
            try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
                assertEquals(KillableRewriter.KEYS, store.count(Bucket.DEVICES));
                for (int k = 0; k < KillableRewriter.KEYS; k++) {
                    byte[] stored = store.get(Bucket.DEVICES, KillableRewriter.key(k));
                    int round = KillableRewriter.roundOf(stored);
                    int acked = KillableRewriter.lastWrite(lastRound, k);
                    assertTrue(round >= acked, KillableRewriter.key(k) + " is from round " + round + ", " + acked + " was acknowledged");
                    assertArrayEquals(KillableRewriter.document(k, round), stored, KillableRewriter.key(k));
                }
                store.put(Bucket.DEVICES, "after-crash", doc("ok"));
            }
        }
    }

    private static void record(String line, List<String> acked, List<String> batches) {
        if (line.startsWith("ACK ")) {
            acked.add(line.substring(4));
        } else if (line.startsWith("BATCH ")) {
            batches.add(line.split(" ")[1]);
        }
    }
}
