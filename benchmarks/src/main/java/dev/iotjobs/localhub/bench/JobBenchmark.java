package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.json.Json;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

import static dev.iotjobs.localhub.bench.BenchOutput.info;

/**
 * Job fan-out benchmarks (see docs/benchmarks.md): {@code ./bench.sh [small|full] [scenario ...]}.
 * Each real scenario (twin-job, method-job, method-job-amqp, query, scaling) runs against a fresh in-process hub and prints one line:
 * {@code BENCH <scenario> devices=<n> seconds=<s> rate=<devices/s> heapMB=<m> [p50ms=<x> p99ms=<y>]
 * limit=<devices/s> ratio=<rate/limit> coldRate=<devices/s>}.
 * <p>
 * The limit scenarios measure what one part of a real scenario allows on its own, at the same size, and print
 * the same line without {@code limit}/{@code ratio}: limit-rpc ({@link LimitRpc}: the method-job's fleet against
 * a minimal MQTT/TLS server), limit-rpc-amqp (the method-job-amqp's fleet against a bare vertx-proton server over
 * TLS), limit-store ({@link LimitStore}: the twin job's documents into a bare MVStore),
 * limit-merge ({@link LimitMerge}: the twin job's merge and serialization, in memory) and limit-scan
 * ({@link LimitScan}: the query's condition in plain Java). A real scenario's {@code limit} is the limit measured
 * in this run at its size, after the real scenario (so that the real scenario's first job is the JVM's first):
 * min(store, merge) for twin-job and scaling, rpc for method-job, rpc-amqp for method-job-amqp, scan for query. {@code coldRate} is the rate
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
            scenarios = List.of("twin-job", "method-job", "query", "scaling", "startup", "telemetry");
        }
        int twins = Integer.getInteger("bench.twins", full ? 1_000_000 : 20_000);
        int connected = full ? 10_000 : 1_000;
        // AMQP devices: as many as MQTT ones unless -Dbench.amqp.devices says otherwise (docs/benchmarks.md).
        int connectedAmqp = Integer.getInteger("bench.amqp.devices", connected);
        int queried = full ? 1_000_000 : 20_000;
        Limits limits = new Limits();
        for (String scenario : scenarios) {
            switch (scenario) {
                // The real scenario first (its cold job is then the JVM's first), its limit after it.
                case "twin-job" -> twinJob("twin-job", twins).print(limits.twinJob(twins));
                case "method-job" -> methodJob(connected, FleetProcess.Protocol.MQTT).print(limits.methodJob(connected));
                case "method-job-amqp" -> methodJob(connectedAmqp, FleetProcess.Protocol.AMQP)
                        .print(limits.methodJobAmqp(connectedAmqp));
                case "query" -> query(queried).print(limits.query(queried));
                case "scaling" -> {
                    for (int n : full ? new int[]{10_000, 100_000, 1_000_000} : new int[]{2_000, 10_000, 50_000}) {
                        twinJob("scaling", n).print(limits.twinJob(n));
                    }
                }
                case "limit-rpc" -> limits.measureRpc(connected);
                case "limit-rpc-amqp" -> limits.measureRpcAmqp(connectedAmqp);
                case "limit-store" -> limits.measureStore(twins);
                case "limit-merge" -> limits.measureMerge(twins);
                case "limit-scan" -> limits.measureScan(queried);
                case "startup" -> StartupBenchmark.run();
                case "telemetry" -> TelemetryBenchmark.run(full);
                case "c2d" -> C2dBenchmark.run(Integer.getInteger("bench.c2d.devices", full ? 2_000 : 200),
                        Integer.getInteger("bench.c2d.messages", full ? 20 : 10));
                default -> throw new IllegalArgumentException("unknown scenario " + scenario
                        + " (twin-job, method-job, method-job-amqp, query, scaling, startup, telemetry, c2d, limit-rpc,"
                        + " limit-rpc-amqp, limit-store, limit-merge, limit-scan)");
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

    /**
     * scheduleUpdateTwin over N tagged twins, scheduled and followed by the service in its own JVM
     * ({@link ServiceProcess}); a job's time is the hub's record of it, createdTime to endTime
     * ({@link ServiceProcess.JobResult#hubSeconds()}); coldRate is the first warm-up job's (the measured job's without
     * warm-ups).
     */
    static Measured twinJob(String name, int n) throws Exception {
        try (BenchHub bench = new BenchHub(); ServiceProcess service = new ServiceProcess(bench.hub)) {
            String run = "b" + UUID.randomUUID().toString().substring(0, 6);
            long t0 = System.nanoTime();
            bench.register(run, n, Json.object().put("bench", run).put("building", "43"));
            info("registered %d twins in %.1f s, store file %d MB", n, (System.nanoTime() - t0) / 1e9, bench.storeFileMb());
            String condition = "tags.bench = '" + run + "'";
            // Warm-up jobs over the same twins first (the measured job then redoes the same update): on two
            // cores the JIT compiler otherwise takes a quarter to half of the CPU during the measured job.
            // -Dbench.twin.warmups=0 measures the cold hub only.
            int warmups = Integer.getInteger("bench.twin.warmups", 2);
            double coldRate = 0;
            for (int w = 1; w <= warmups; w++) {
                ServiceProcess.JobResult warm = check(service.twinJob("bench-warmup-" + UUID.randomUUID(), condition), n);
                if (w == 1) {
                    coldRate = n / warm.hubSeconds();
                }
                info("warm-up job %d: %.3f s (%.0f devices/s) by the hub's clock, %.3f s as the service saw it, store file %d MB",
                        w, warm.hubSeconds(), n / warm.hubSeconds(), warm.seconds(), bench.storeFileMb());
            }
            long cpu0 = processCpuNanos();
            long jit0 = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
            ServiceProcess.JobResult done = check(service.twinJob("bench-" + UUID.randomUUID(), condition), n);
            double seconds = done.hubSeconds();
            info("job: %.3f s by the hub's clock (%.3f s as the service saw it), hub process CPU %.1f s (JIT compiling %.1f s), store file %d MB",
                    seconds, done.seconds(),
                    (processCpuNanos() - cpu0) / 1e9,
                    (ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - jit0) / 1e3,
                    bench.storeFileMb());
            long heap = BenchHub.heapAfterGcMb();
            info("store file %s", bench.awaitCompactedStore());
            // A restart reads every twin back from the store: how long it takes, and what the twins hold then.
            long restart = System.nanoTime();
            bench.hub.restart();
            info("restart with %d twins: %.1f s, then heap %d MB", n, (System.nanoTime() - restart) / 1e9,
                    BenchHub.heapAfterGcMb());
            return new Measured(name, n, seconds, heap, null, warmups > 0 ? coldRate : n / seconds);
        }
    }

    /**
     * scheduleDeviceMethod over N simulated devices connected from a separate JVM (FleetMain) over MQTT/TLS
     * (method-job) or AMQP/TLS (method-job-amqp); a job's time is the hub's record of it (createdTime to endTime);
     * latency per device from the job records; coldRate is the first job's.
     */
    static Measured methodJob(int n, FleetProcess.Protocol protocol) throws Exception {
        String scenario = protocol == FleetProcess.Protocol.AMQP ? "method-job-amqp" : "method-job";
        try (BenchHub bench = new BenchHub(); ServiceProcess service = new ServiceProcess(bench.hub)) {
            String run = "m" + UUID.randomUUID().toString().substring(0, 6);
            List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, n,
                    Json.object().put("bench", run));
            int port = protocol == FleetProcess.Protocol.AMQP ? bench.hub.amqpPort() : bench.hub.mqttPort();
            try (FleetProcess fleet = FleetProcess.start(devices, protocol, port, bench.hub.trustStore())) {
                String line = fleet.awaitLine("CONNECTED");
                info("connected %d simulated devices over %s in %s s (separate JVM)", n, protocol, line.split(" ")[2]);
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
                    ServiceProcess.JobResult done = check(service.methodJob(id, "tags.bench = '" + run + "'"), n);
                    if (round == 1) {
                        coldRate = n / done.hubSeconds();
                    }
                    info("%s job %d: %.3f s (%.0f devices/s) by the hub's clock, %.3f s as the service saw it",
                            round <= warmups ? "warm-up" : "measured", round <= warmups ? round : round - warmups,
                            done.hubSeconds(), n / done.hubSeconds(), done.seconds());
                    if (round > warmups) {
                        results.add(new double[] {done.hubSeconds(), jobIds.size()});
                        jobIds.add(id);
                    }
                }
                results.sort(Comparator.comparingDouble(r -> r[0]));
                double[] median = results.isEmpty() ? new double[] {n / coldRate, -1} : results.get(results.size() / 2);
                long[] latencies = median[1] < 0 ? null : service.latencies(jobIds.get((int) median[1]));
                long heap = BenchHub.heapAfterGcMb();
                fleet.checkCalls((long) n * rounds);
                return new Measured(scenario, n, median[0], heap, latencies, coldRate);
            }
        }
    }

    /** CPU time of this process (hub and benchmark) so far, all threads. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * SELECT COUNT() over N twins, ten times after a dropped first run; rate is twins scanned per second at the
     * median, coldRate at the first run.
     */
    static Measured query(int n) throws Exception {
        try (BenchHub bench = new BenchHub(); ServiceProcess service = new ServiceProcess(bench.hub)) {
            String run = "q" + UUID.randomUUID().toString().substring(0, 6);
            bench.register(run, n, Json.object().put("bench", run).put("floor", 3));
            String sql = "SELECT COUNT() AS n FROM devices WHERE tags.bench = '" + run + "' AND tags.floor = 3";
            long[] millis = new long[11];
            for (int i = 0; i < millis.length; i++) {
                long[] result = service.count(sql);
                millis[i] = result[1];
                if (result[0] != n) {
                    throw new IllegalStateException("COUNT returned " + result[0] + ", expected " + n);
                }
            }
            long[] measured = Arrays.copyOfRange(millis, 1, millis.length); // the first run warms up the JIT
            Arrays.sort(measured);
            double medianSeconds = measured[measured.length / 2] / 1000.0;
            return new Measured("query", n, medianSeconds, BenchHub.heapAfterGcMb(), measured, n / (Math.max(1, millis[0]) / 1000.0));
        }
    }

    private static ServiceProcess.JobResult check(ServiceProcess.JobResult done, long n) {
        if (!done.status().equals("completed") || done.succeeded() != n) {
            throw new IllegalStateException("job ended " + done.status() + " with " + done.succeeded() + " of " + n
                    + " devices succeeded");
        }
        return done;
    }
}
