package dev.iotjobs.localhub.bench;

import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClientOptions;
import com.microsoft.azure.sdk.iot.service.query.JobQueryResponse;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.QueryPageOptions;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetMain;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.json.Json;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Job fan-out benchmarks (see docs/benchmarks.md): {@code ./bench.sh [small|full] [scenario ...]}.
 * Each scenario runs against a fresh in-process hub and prints one line:
 * {@code BENCH <scenario> devices=<n> seconds=<s> rate=<devices/s> heapMB=<m> [p50ms=<x> p99ms=<y>]}.
 */
public final class JobBenchmark {
    private JobBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        boolean full = args.length > 0 && args[0].equals("full");
        List<String> scenarios = new ArrayList<>(Arrays.asList(args));
        scenarios.remove("full");
        scenarios.remove("small");
        if (scenarios.isEmpty()) {
            scenarios = List.of("twin-job", "method-job", "query", "scaling", "startup");
        }
        for (String scenario : scenarios) {
            switch (scenario) {
                case "twin-job" -> twinJob("twin-job", Integer.getInteger("bench.twins", full ? 1_000_000 : 20_000));
                case "method-job" -> methodJob(full ? 10_000 : 1_000);
                case "query" -> query(full ? 1_000_000 : 20_000);
                case "scaling" -> {
                    for (int n : full ? new int[]{10_000, 100_000, 1_000_000} : new int[]{2_000, 10_000, 50_000}) {
                        twinJob("scaling", n);
                    }
                }
                case "startup" -> StartupBenchmark.run();
                default -> throw new IllegalArgumentException("unknown scenario " + scenario
                        + " (twin-job, method-job, query, scaling, startup)");
            }
        }
        System.exit(0);
    }

    private static ScheduledJobsClient jobsClient() {
        return new ScheduledJobsClient(WellKnownKeys.HUB_CONNECTION_STRING,
                ScheduledJobsClientOptions.builder().httpReadTimeoutSeconds(0).build());
    }

    /** scheduleUpdateTwin over N tagged twins: time from scheduling to "completed" as the SDK sees it. */
    static void twinJob(String name, int n) throws Exception {
        try (BenchHub bench = new BenchHub()) {
            String run = "b" + UUID.randomUUID().toString().substring(0, 6);
            long t0 = System.nanoTime();
            bench.register(run, n, Json.object().put("bench", run).put("building", "43"));
            info("registered %d twins in %.1f s, store file %d MB", n, (System.nanoTime() - t0) / 1e9, bench.storeFileMb());
            ScheduledJobsClient jobs = jobsClient();
            Twin patch = new Twin();
            patch.getTags().put("floor", 3);
            patch.getDesiredProperties().put("building", 43);
            patch.getDesiredProperties().put("floor", 3);
            // Warm-up jobs over the same twins first (the measured job then redoes the same update): on two
            // cores the JIT compiler otherwise takes a quarter to half of the CPU during the measured job.
            // -Dbench.twin.warmups=0 measures the cold hub.
            int warmups = Integer.getInteger("bench.twin.warmups", 2);
            for (int w = 1; w <= warmups; w++) {
                String warmJob = "bench-warmup-" + UUID.randomUUID();
                long w0 = System.nanoTime();
                jobs.scheduleUpdateTwin(warmJob, "tags.bench = '" + run + "'", patch, new Date(), 3600);
                check(await(jobs, warmJob), n);
                double ws = (System.nanoTime() - w0) / 1e9;
                info("warm-up job %d: %.3f s (%.0f devices/s), store file %d MB", w, ws, n / ws, bench.storeFileMb());
            }
            String jobId = "bench-" + UUID.randomUUID();
            long cpu0 = processCpuNanos();
            long jit0 = java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
            long start = System.nanoTime();
            jobs.scheduleUpdateTwin(jobId, "tags.bench = '" + run + "'", patch, new Date(), 3600);
            ScheduledJob done = await(jobs, jobId);
            double seconds = (System.nanoTime() - start) / 1e9;
            check(done, n);
            info("job: %.3f s, hub process CPU %.1f s (JIT compiling %.1f s)", seconds, (processCpuNanos() - cpu0) / 1e9,
                    (java.lang.management.ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jit0) / 1e3);
            report(name, n, seconds, BenchHub.heapAfterGcMb(), null);
        }
    }

    /**
     * scheduleDeviceMethod over N simulated devices connected from a separate JVM (FleetMain); latency per
     * device from the job records.
     */
    static void methodJob(int n) throws Exception {
        try (BenchHub bench = new BenchHub()) {
            String run = "m" + UUID.randomUUID().toString().substring(0, 6);
            List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, n,
                    Json.object().put("bench", run));
            Path file = Files.createTempFile("fleet", ".csv");
            Files.write(file, devices.stream().map(d -> d.deviceId() + "," + d.primaryKey()).toList());
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                    // The fleet is a load generator with a small heap: the throughput collector spares the two
                    // shared cores G1's concurrent marking and refinement threads (about a tenth of the CPU).
                    "-XX:+UseParallelGC"));
            String fleetOptions = System.getProperty("bench.fleet.javaOptions", "");
            if (!fleetOptions.isBlank()) {
                command.addAll(Arrays.asList(fleetOptions.trim().split("\\s+")));
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), FleetMain.class.getName(),
                    file.toString(), Integer.toString(bench.hub.mqttPort()), bench.hub.trustStore().toString()));
            Process fleet = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(fleet.getInputStream(), StandardCharsets.UTF_8))) {
                String line = awaitLine(out, "CONNECTED");
                info("connected %d simulated devices in %s s (separate JVM)", n, line.split(" ")[2]);
                ScheduledJobsClient jobs = jobsClient();
                // The hub's JIT compiler needs several jobs to settle on two cores: warm-up jobs first, then
                // the median of the measured jobs (all over the same connected fleet).
                int warmups = Integer.getInteger("bench.method.warmups", 8);
                int measured = Integer.getInteger("bench.method.measured", 3);
                int rounds = warmups + measured;
                List<double[]> results = new ArrayList<>();
                List<String> jobIds = new ArrayList<>();
                for (int round = 1; round <= rounds; round++) {
                    String id = "bench-" + UUID.randomUUID();
                    long start = System.nanoTime();
                    jobs.scheduleDirectMethod(id, "tags.bench = '" + run + "'", "lockDoor", new Date(),
                            DirectMethodsJobOptions.builder().payload(java.util.Map.of("lockTime", "10m"))
                                    .methodResponseTimeoutSeconds(60).methodConnectTimeoutSeconds(0)
                                    .maxExecutionTimeSeconds(3600).build());
                    ScheduledJob done = await(jobs, id);
                    double jobSeconds = (System.nanoTime() - start) / 1e9;
                    check(done, n);
                    info("%s job %d: %.3f s (%.0f devices/s), by the job's own times %.3f s", round <= warmups ? "warm-up" : "measured",
                            round <= warmups ? round : round - warmups, jobSeconds, n / jobSeconds,
                            (done.getEndTime().getTime() - done.getStartTime().getTime()) / 1e3);
                    if (round > warmups) {
                        results.add(new double[] {jobSeconds, jobIds.size()});
                        jobIds.add(id);
                    }
                }
                results.sort(java.util.Comparator.comparingDouble(r -> r[0]));
                double[] median = results.get(results.size() / 2);
                double seconds = median[0];
                String jobId = jobIds.get((int) median[1]);
                long[] latencies = deviceLatenciesMillis(jobId, n);
                long heap = BenchHub.heapAfterGcMb();
                fleet.getOutputStream().close();
                String calls = awaitLine(out, "CALLS");
                if (!calls.equals("CALLS " + (long) n * rounds + " PATCHES 0")) {
                    throw new IllegalStateException("the fleet saw " + calls + ", expected " + (long) n * rounds + " calls");
                }
                report("method-job", n, seconds, heap, latencies);
            } finally {
                fleet.destroy();
                Files.deleteIfExists(file);
            }
        }
    }

    /** CPU time of this process (hub and benchmark) so far, all threads. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static String awaitLine(BufferedReader out, String prefix) throws java.io.IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line;
            }
            System.out.println("  fleet: " + line);
        }
        throw new IllegalStateException("the fleet process ended before printing " + prefix);
    }

    /** SELECT COUNT() over N twins, ten times; rate is twins scanned per second at the median. */
    static void query(int n) throws Exception {
        try (BenchHub bench = new BenchHub()) {
            String run = "q" + UUID.randomUUID().toString().substring(0, 6);
            bench.register(run, n, Json.object().put("bench", run).put("floor", 3));
            QueryClient queries = new QueryClient(WellKnownKeys.HUB_CONNECTION_STRING);
            String sql = "SELECT COUNT() AS n FROM devices WHERE tags.bench = '" + run + "' AND tags.floor = 3";
            long[] millis = new long[11];
            for (int i = 0; i < millis.length; i++) {
                long start = System.nanoTime();
                RawQueryResponse r = queries.queryRaw(sql);
                int count = Json.parse(r.next().getBytes()).get("n").asInt();
                millis[i] = (System.nanoTime() - start) / 1_000_000;
                if (count != n) {
                    throw new IllegalStateException("COUNT returned " + count + ", expected " + n);
                }
            }
            long[] measured = Arrays.copyOfRange(millis, 1, millis.length); // the first run warms up the JIT
            Arrays.sort(measured);
            double medianSeconds = measured[measured.length / 2] / 1000.0;
            report("query", n, medianSeconds, BenchHub.heapAfterGcMb(), measured);
        }
    }

    private static ScheduledJob await(ScheduledJobsClient jobs, String jobId) throws Exception {
        return dev.iotjobs.localhub.it.Jobs.awaitTerminal(jobs, jobId, 3_600_000, 20);
    }

    private static void check(ScheduledJob done, int n) {
        if (done.getJobStatus() != ScheduledJobStatus.completed || done.getJobStatistics().getSucceededCount() != n) {
            throw new IllegalStateException("job ended " + done.getJobStatus() + " with "
                    + done.getJobStatistics().getSucceededCount() + " of " + n + " devices succeeded");
        }
    }

    /** Per-device time from dispatch to answer, read back from the devices.jobs records. */
    private static long[] deviceLatenciesMillis(String jobId, int n) throws Exception {
        JobQueryResponse rows = new QueryClient(WellKnownKeys.HUB_CONNECTION_STRING)
                .queryJobs("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '" + jobId + "'",
                        QueryPageOptions.builder().pageSize(100).build());
        List<Long> values = new ArrayList<>(n);
        while (rows.hasNext()) {
            ScheduledJob row = rows.next(QueryPageOptions.builder().pageSize(100).build());
            values.add(row.getEndTime().getTime() - row.getStartTime().getTime());
        }
        Collections.sort(values);
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static void report(String scenario, int n, double seconds, long heapMb, long[] sortedMillis) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "BENCH %s devices=%d seconds=%.3f rate=%.0f heapMB=%d",
                scenario, n, seconds, n / seconds, heapMb));
        if (sortedMillis != null && sortedMillis.length > 0) {
            line.append(String.format(Locale.ROOT, " p50ms=%d p99ms=%d", percentile(sortedMillis, 50), percentile(sortedMillis, 99)));
        }
        System.out.println(line);
    }

    private static long percentile(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static void info(String format, Object... args) {
        System.out.println("  " + String.format(Locale.ROOT, format, args));
    }
}
