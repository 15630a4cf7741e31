package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceBenchAccess;
import dev.iotjobs.localhub.device.TwinChange;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * The limit-merge scenario: the CPU work a twin job does per device before the store, and nothing else. Each
 * pass applies the job's change to every in-memory twin with the hub's own merge ({@link TwinChange#applyTo},
 * what the job's batches run per device) and serializes the new version to its stored form (as
 * {@code DeviceStore.put}), on as many threads as the hub's job workers, in batches of 1,000 devices taken in
 * id order (as {@code JobRunner}). The new versions replace the old ones, as the registry's do. No registry
 * locks, no store, no job records.
 * <p>
 * The BENCH line's rate is merge + encode (the limit); each pass also times merge alone, printed beside it.
 */
final class LimitMerge {
    /** {@code JobRunner.TWIN_BATCH}. */
    private static final int BATCH = 1000;
    /** HubConfig's default job worker threads: max(2, cores). */
    private static final int THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

    private LimitMerge() {
    }

    static Limits.Result run(Device[] registeredInIdOrder, TwinChange change) throws Exception {
        int n = registeredInIdOrder.length;
        Device[] devices = registeredInIdOrder.clone();
        int warmups = Integer.getInteger("bench.twin.warmups", 2);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            double coldSeconds = 0;
            double seconds = 0;
            for (int pass = 0; pass <= warmups; pass++) {
                long[] bytes = new long[1];
                double mergeEncode = pass(pool, devices, change, true, bytes);
                double mergeOnly = pass(pool, devices, change, false, null);
                if (pass == 0) {
                    coldSeconds = mergeEncode;
                }
                seconds = mergeEncode;
                BenchOutput.info("limit-merge %s: merge+encode %.3f s (%.0f devices/s, %d bytes stored per device), "
                                + "merge only %.3f s (%.0f devices/s), %d threads",
                        pass < warmups ? "warm-up pass " + (pass + 1) : "measured pass", mergeEncode, n / mergeEncode,
                        bytes[0] / Math.max(1, n), mergeOnly, n / mergeOnly, THREADS);
            }
            BenchOutput.bench("limit-merge", n, seconds, BenchHub.heapAfterGcMb(), null, Double.NaN, n / coldSeconds);
            return new Limits.Result(n / seconds, n / coldSeconds);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * One pass over every device; with {@code encode}, each new version is serialized and replaces the old one
     * (its document bytes are added to {@code bytes[0]}), else it is dropped.
     *
     * @return seconds
     */
    private static double pass(ExecutorService pool, Device[] devices, TwinChange change, boolean encode, long[] bytes)
            throws Exception {
        AtomicInteger nextBatch = new AtomicInteger();
        long start = System.nanoTime();
        List<Future<Long>> parts = new ArrayList<>(THREADS);
        for (int t = 0; t < THREADS; t++) {
            parts.add(pool.submit(() -> {
                long sum = 0; // document bytes, or twin versions: a result the JIT cannot drop
                int first;
                while ((first = nextBatch.getAndIncrement() * BATCH) < devices.length) {
                    // One timestamp and one memo per batch, as TwinService.patchMany.
                    UnaryOperator<Device> apply = DeviceBenchAccess.batch(change, Instant.now());
                    for (int i = first; i < Math.min(devices.length, first + BATCH); i++) {
                        Device updated = apply.apply(devices[i]);
                        if (encode) {
                            sum += DeviceBenchAccess.encode(updated).length;
                            devices[i] = updated;
                        } else {
                            sum += updated.twinVersion();
                        }
                    }
                }
                return sum;
            }));
        }
        long sum = 0;
        for (Future<Long> part : parts) {
            sum += part.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (bytes != null) {
            bytes[0] = sum;
        }
        return seconds;
    }
}
