package dev.iotjobs.localhub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.json.Json;

import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The limit-scan scenario: the query scenario's condition ({@code tags.bench = '<run>' AND tags.floor = 3})
 * over the same N twins, written in plain Java and evaluated on the twin documents the query engine reads
 * ({@code DeviceRegistry.twinDocuments}: a snapshot of the devices as lazily rendered views), with a parallel
 * stream on all cores as the engine's scan. No parser, compiler, REST call or SDK. Timed per run: taking the
 * snapshot and counting; eleven runs, the first dropped, as the query scenario.
 */
final class LimitScan {
    private LimitScan() {
    }

    static Limits.Result run(int n) {
        String run = "s" + UUID.randomUUID().toString().substring(0, 6);
        TwinFixture fixture = TwinFixture.register(run, n, Json.object().put("bench", run).put("floor", 3));
        System.gc(); // the registration's garbage goes now, not during the timed runs
        long[] nanos = new long[11];
        for (int i = 0; i < nanos.length; i++) {
            long start = System.nanoTime();
            List<JsonNode> twins = fixture.registry.twinDocuments();
            long count = twins.parallelStream().filter(t -> matches(t, run)).count();
            nanos[i] = System.nanoTime() - start;
            if (count != n) {
                throw new IllegalStateException("the scan counted " + count + ", expected " + n);
            }
        }
        long[] measured = Arrays.copyOfRange(nanos, 1, nanos.length); // the first run warms up the JIT
        Arrays.sort(measured);
        double seconds = measured[measured.length / 2] / 1e9;
        BenchOutput.info("limit-scan: runs %.2f ms (first) then %.2f-%.2f ms", nanos[0] / 1e6, measured[0] / 1e6,
                measured[measured.length - 1] / 1e6);
        BenchOutput.bench("limit-scan", n, seconds, BenchHub.heapAfterGcMb(), null, Double.NaN, n / (nanos[0] / 1e9));
        return new Limits.Result(n / seconds, n / (nanos[0] / 1e9));
    }

    /** {@code tags.bench = '<run>' AND tags.floor = 3}, by hand. */
    private static boolean matches(JsonNode twin, String run) {
        JsonNode tags = twin.get("tags");
        if (tags == null) {
            return false;
        }
        JsonNode bench = tags.get("bench");
        JsonNode floor = tags.get("floor");
        return bench != null && bench.isTextual() && bench.textValue().equals(run)
                && floor != null && floor.isNumber() && floor.doubleValue() == 3;
    }
}
