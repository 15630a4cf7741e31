package dev.iotjobs.localhub.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.util.Locale;

/**
 * What the benchmarks print: one {@code BENCH} line per scenario (the machine-readable result) and indented
 * information lines around it.
 */
final class BenchOutput {
    private BenchOutput() {
    }

    /**
     * Prints {@code BENCH <scenario> devices=<n> seconds=<s> rate=<n/s> heapMB=<m> [p50ms=<x> p99ms=<y>]
     * [limit=<devices/s> ratio=<rate/limit>] coldRate=<devices/s>}.
     *
     * @param sortedMillis per-device or per-run times for p50/p99, or null
     * @param limit        the scenario's limit (devices/s) for {@code limit=} and {@code ratio=}; NaN for none
     *                     (the limit scenarios themselves)
     * @param coldRate     devices/s of the scenario's first (cold) job, round or run
     */
    static void bench(String scenario, int n, double seconds, long heapMb, long[] sortedMillis, double limit,
                      double coldRate) {
        double rate = n / seconds;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "BENCH %s devices=%d seconds=%.3f rate=%.0f heapMB=%d",
                scenario, n, seconds, rate, heapMb));
        if (sortedMillis != null && sortedMillis.length > 0) {
            line.append(String.format(Locale.ROOT, " p50ms=%d p99ms=%d", percentile(sortedMillis, 50), percentile(sortedMillis, 99)));
        }
        if (!Double.isNaN(limit)) {
            line.append(String.format(Locale.ROOT, " limit=%.0f ratio=%.3f", limit, rate / limit));
        }
        line.append(String.format(Locale.ROOT, " coldRate=%.0f", coldRate));
        System.out.println(line);
    }

    static long percentile(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /**
     * Reads a child process's output until a line starting with {@code prefix}, which it returns; the lines
     * before it are echoed as information lines, marked with {@code who}.
     */
    static String awaitLine(BufferedReader out, String who, String prefix) throws IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line;
            }
            info("%s: %s", who, line);
        }
        throw new IllegalStateException("the " + who + " process ended before printing " + prefix);
    }

    static void info(String format, Object... args) {
        System.out.println("  " + String.format(Locale.ROOT, format, args));
    }
}
