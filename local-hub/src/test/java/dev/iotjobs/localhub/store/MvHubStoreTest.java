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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.iotjobs.localhub.store.HubStoreContract.doc;
import static dev.iotjobs.localhub.store.HubStoreContract.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MvHubStoreTest implements HubStoreContract {
    private static final AtomicInteger STORES = new AtomicInteger();

    @TempDir
    Path tempDir;

    @Override
    public HubStore newStore() {
        return MvHubStore.open(tempDir.resolve("store-" + STORES.incrementAndGet()));
    }

    @Test
    void createsTheDocumentedFileAndSurvivesCloseAndReopen() {
        Path dataDir = tempDir.resolve("nested/data"); // directories are created
        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
            assertEquals(DataDirectory.storeFile(dataDir), store.file());
            store.put(Bucket.DEVICES, "d1", doc("one"));
            store.put(Bucket.DEVICES, "d2", doc("two"));
            store.delete(Bucket.DEVICES, "d2");
            store.putAll(List.of(new HubStore.Write(Bucket.JOBS, "j1", doc("job"))));
        }
        assertTrue(Files.isRegularFile(DataDirectory.storeFile(dataDir)));
        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
            assertEquals("one", text(store.get(Bucket.DEVICES, "d1")));
            assertNull(store.get(Bucket.DEVICES, "d2"));
            assertEquals("job", text(store.get(Bucket.JOBS, "j1")));
            assertEquals(1, store.count(Bucket.DEVICES));
        }
    }

    @Test
    void secondOpenOfTheSameDirectoryInThisJvmIsRejected() {
        Path dataDir = tempDir.resolve("shared");
        try (MvHubStore ignored = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> MvHubStore.open(DataDirectory.storeFile(dataDir)));
            assertTrue(e.getMessage().contains("is in use by another local hub"), e.getMessage());
        }
        MvHubStore.open(DataDirectory.storeFile(dataDir)).close(); // free again once closed
    }

    /**
     * A visit sees one whole version even while the same documents are rewritten and the housekeeping
     * compacts the file (which reuses old versions' space at once): slow visits run next to a writer that
     * rewrites every document, then half of them, then pauses.
     */
    @Test
    void aVisitSeesWholeDocumentsWhileRewritesAndHousekeepingRun() throws Exception {
        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(tempDir.resolve("visited")))) {
            int keys = KillableRewriter.KEYS;
            List<HubStore.Write> first = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                first.add(new HubStore.Write(Bucket.DEVICES, KillableRewriter.key(k), KillableRewriter.document(k, 0)));
            }
            store.putAll(first);
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                try {
                    for (int round = 1; !stop.get(); round++) {
                        List<HubStore.Write> batch = new ArrayList<>();
                        for (int k = 0; k < keys; k++) {
                            if (KillableRewriter.writes(round, k)) {
                                batch.add(new HubStore.Write(Bucket.DEVICES, KillableRewriter.key(k), KillableRewriter.document(k, round)));
                            }
                            if (batch.size() == 250) {
                                store.putAll(batch);
                                batch.clear();
                            }
                        }
                        store.putAll(batch);
                        if (round % 2 == 1) {
                            Thread.sleep(700); // the housekeeping's turn
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            writer.start();
            try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                int visits = 0;
                while (System.nanoTime() < until) {
                    int[] seen = {0};
                    store.forEach(Bucket.DEVICES, (key, value) -> {
                        int k = Integer.parseInt(key.substring("device-".length()));
                        assertArrayEquals(KillableRewriter.document(k, KillableRewriter.roundOf(value)), value, key);
                        if (++seen[0] % 100 == 0) {
                            sleepQuietly(); // a slow visit spans many commits
                        }
                    });
                    assertEquals(keys, seen[0]);
                    visits++;
                }
                assertTrue(visits >= 3, "only " + visits + " visits");
            } finally {
                stop.set(true);
                writer.join();
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
