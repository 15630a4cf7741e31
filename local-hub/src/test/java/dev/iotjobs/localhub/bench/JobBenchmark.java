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
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.json.Json;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.UUID;

import static dev.iotjobs.localhub.bench.BenchOutput.info;

/**
 * Job fan-out benchmarks (see docs/benchmarks.md): {@code ./bench.sh [small|full] [scenario ...]}.
 * Each real scenario (twin-job, method-job, query, scaling) runs against a fresh in-process hub and prints one line:
 * {@code BENCH <scenario> devices=<n> seconds=<s> rate=<devices/s> heapMB=<m> [p50ms=<x> p99ms=<y>]
 * limit=<devices/s> ratio=<rate/limit> coldRate=<devices/s>}.
 * <p>
 * The limit scenarios measure what one part of a real scenario allows on its own, at the same size, and print
 * the same line without {@code limit}/{@code ratio}: limit-rpc ({@link LimitRpc}: the method-job's fleet against
 * a minimal MQTT/TLS server), limit-store ({@link LimitStore}: the twin job's documents into a bare MVStore),
 * limit-merge ({@link LimitMerge}: the twin job's merge and serialization, in memory) and limit-scan
 * ({@link LimitScan}: the query's condition in plain Java). A real scenario's {@code limit} is the limit measured
 * in this run at its size, after the real scenario (so that the real scenario's first job is the JVM's first):
 * min(store, merge) for twin-job and scaling, rpc for method-job, scan for query. {@code coldRate} is the rate
 * of the scenario's first, cold job (or round, run); bench.sh runs each scenario in a JVM of its own.
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
            scenarios = List.of("twin-job", "method-job", "query", "scaling");
        }
        int twins = Integer.getInteger("bench.twins", full ? 1_000_000 : 20_000);
        int connected = full ? 10_000 : 1_000;
        int queried = full ? 1_000_000 : 20_000;
        Limits limits = new Limits();
        for (String scenario : scenarios) {
            switch (scenario) {
                // The real scenario first (its cold job is then the JVM's first), its limit after it.
                case "twin-job" -> twinJob("twin-job", twins).print(limits.twinJob(twins));
                case "method-job" -> methodJob(connected).print(limits.methodJob(connected));
                case "query" -> query(queried).print(limits.query(queried));
                case "scaling" -> {
                    for (int n : full ? new int[]{10_000, 100_000, 1_000_000} : new int[]{2_000, 10_000, 50_000}) {
                        twinJob("scaling", n).print(limits.twinJob(n));
                    }
                }
                case "limit-rpc" -> limits.measureRpc(connected);
                case "limit-store" -> limits.measureStore(twins);
                case "limit-merge" -> limits.measureMerge(twins);
                case "limit-scan" -> limits.measureScan(queried);
                default -> throw new IllegalArgumentException("unknown scenario " + scenario
                        + " (twin-job, method-job, query, scaling, limit-rpc, limit-store, limit-merge, limit-scan)");
            }
        }
        System.exit(0);
    }

    /** A real scenario's result, printed once its limit is known (the hub is closed by then). */
    record Measured(String scenario, int n, double seconds, long heapMb, long[] sortedMillis, double coldRate) {
        void print(double limit) {
            BenchOutput.bench(scenario, n, seconds, heapMb, sortedMillis, limit, coldRate);
        }
    }

    private static ScheduledJobsClient jobsClient() {
        return new ScheduledJobsClient(WellKnownKeys.HUB_CONNECTION_STRING,
                ScheduledJobsClientOptions.builder().httpReadTimeoutSeconds(0).build());
    }

    /**
     * scheduleUpdateTwin over N tagged twins: time from scheduling to "completed" as the SDK sees it; coldRate is
     * the first warm-up job's (the measured job's without warm-ups).
     */
    static Measured twinJob(String name, int n) throws Exception {
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
            double coldRate = 0;
            for (int w = 1; w <= warmups; w++) {
                String warmJob = "bench-warmup-" + UUID.randomUUID();
                long w0 = System.nanoTime();
                jobs.scheduleUpdateTwin(warmJob, "tags.bench = '" + run + "'", patch, new Date(), 3600);
                check(await(jobs, warmJob), n);
                double ws = (System.nanoTime() - w0) / 1e9;
                if (w == 1) {
                    coldRate = n / ws;
                }
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
            long heap = BenchHub.heapAfterGcMb();
            info("store file after the jobs %d MB; %s", bench.storeFileMb(), bench.awaitCompactedStore());
            return new Measured(name, n, seconds, heap, null, warmups > 0 ? coldRate : n / seconds);
        }
    }

    /**
     * scheduleDeviceMethod over N simulated devices connected from a separate JVM (FleetMain); latency per
     * device from the job records; coldRate is the first warm-up job's.
     */
    static Measured methodJob(int n) throws Exception {
        try (BenchHub bench = new BenchHub()) {
            String run = "m" + UUID.randomUUID().toString().substring(0, 6);
            List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, n,
                    Json.object().put("bench", run));
            try (FleetProcess fleet = FleetProcess.start(devices, bench.hub.mqttPort(), bench.hub.trustStore())) {
                String line = fleet.awaitLine("CONNECTED");
                info("connected %d simulated devices in %s s (separate JVM)", n, line.split(" ")[2]);
                ScheduledJobsClient jobs = jobsClient();
                // The hub's JIT compiler needs several jobs to settle on two cores: warm-up jobs first, then
                // the median of the measured jobs (all over the same connected fleet).
                int warmups = Integer.getInteger("bench.method.warmups", 8);
                int measured = Integer.getInteger("bench.method.measured", 3);
                int rounds = warmups + measured;
                List<double[]> results = new ArrayList<>();
                List<String> jobIds = new ArrayList<>();
                double coldRate = 0;
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
                    if (round == 1) {
                        coldRate = n / jobSeconds;
                    }
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
                fleet.checkCalls((long) n * rounds);
                return new Measured("method-job", n, seconds, heap, latencies, coldRate);
            }
        }
    }

    /** CPU time of this process (hub and benchmark) so far, all threads. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * SELECT COUNT() over N twins, ten times after a dropped first run; rate is twins scanned per second at the
     * median, coldRate at the first run.
     */
    static Measured query(int n) throws Exception {
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
            return new Measured("query", n, medianSeconds, BenchHub.heapAfterGcMb(), measured, n / (Math.max(1, millis[0]) / 1000.0));
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
}
