package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.store.HubStore.Bucket;
import dev.iotjobs.localhub.store.HubStore.Write;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Throughput of {@link MvHubStore}; opt-in, run with
 * {@code mvn -pl benchmarks -am test -Dtest=MvHubStoreBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dlocalhub.bench=true} (documents: {@code -Dlocalhub.bench.docs=1000000}).
 */
@EnabledIfSystemProperty(named = "localhub.bench", matches = "true")
class MvHubStoreBenchmark {
    private static final int DOCS = Integer.getInteger("localhub.bench.docs", 1_000_000);
    private static final int BATCH = 1_000;

    @TempDir
    Path dir;

    @Test
    void batchedPutAll() throws Exception {
        for (boolean random : new boolean[]{false, true}) {
            Path dataDir = dir.resolve(random ? "random" : "sequential");
            // Documents are made before the clock starts: only the store is measured.
            List<List<Write>> batches = new ArrayList<>();
            for (int i = 0; i < DOCS; i += BATCH) {
                List<Write> batch = new ArrayList<>(BATCH);
                for (int j = i; j < Math.min(DOCS, i + BATCH); j++) {
                    int id = random ? Integer.reverse(j) >>> 1 : j; // scattered keys hit a different page each
                    String key = String.format("device-%010d", id);
                    batch.add(new Write(Bucket.DEVICES, key, KillableWriter.document(key)));
                }
                batches.add(batch);
            }
            long start = System.nanoTime();
            try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
                for (List<Write> batch : batches) {
                    store.putAll(batch);
                }
                report((random ? "scattered" : "sequential") + " keys, putAll x" + BATCH, DOCS, start, dataDir);
                assertEquals(DOCS, store.count(Bucket.DEVICES));
            }
            start = System.nanoTime();
            try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
                AtomicLong n = new AtomicLong();
                store.forEach(Bucket.DEVICES, (k, v) -> n.incrementAndGet());
                assertEquals(DOCS, n.get());
                report("reopen + forEach", DOCS, start, dataDir);
            }
        }
    }

    @Test
    void concurrentBatchWriters() throws Exception {
        int writers = 4;
        Path dataDir = dir.resolve("batch-writers");
        List<List<Write>> batches = new ArrayList<>();
        for (int i = 0; i < DOCS; i += BATCH) {
            List<Write> batch = new ArrayList<>(BATCH);
            for (int j = i; j < Math.min(DOCS, i + BATCH); j++) {
                String key = String.format("device-%010d", j);
                batch.add(new Write(Bucket.DEVICES, key, KillableWriter.document(key)));
            }
            batches.add(batch);
        }
        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            long start = System.nanoTime();
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < writers; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int b = thread; b < batches.size(); b += writers) {
                        store.putAll(batches.get(b));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            pool.shutdown();
            report(writers + " threads, putAll x" + BATCH, DOCS, start, dataDir);
            assertEquals(DOCS, store.count(Bucket.DEVICES));
        }
    }

    @Test
    void concurrentSinglePuts() throws Exception {
        for (int threads : new int[]{8, 64}) {
            Path dataDir = dir.resolve("single-" + threads);
            int perThread = Math.max(1, DOCS / 10 / threads);
            byte[] document = KillableWriter.document("device-0-0");
            long start;
            try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dataDir))) {
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                start = System.nanoTime();
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            store.put(Bucket.DEVICES, "device-" + thread + "-" + i, document);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                pool.shutdown();
                report(threads + " threads, single puts", (long) threads * perThread, start, dataDir);
            }
        }
    }

    private static void report(String what, long docs, long startNanos, Path dataDir) throws Exception {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("%-40s %,10d docs in %6.2f s = %,9.0f docs/s, file %,d MB%n", what, docs, seconds,
                docs / seconds, Files.size(DataDirectory.storeFile(dataDir)) >> 20);
    }
}
