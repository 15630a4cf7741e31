package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.json.Json;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The limit scenarios of one benchmark run and their results, by scenario and size: what each real scenario's
 * {@code limit=} and {@code ratio=} compare with. A limit a real scenario needs and this run has not measured
 * yet at that size is measured first (and prints its own BENCH line). Each limit scenario builds its own input
 * and drops it before the next scenario, so no real scenario's heap figure includes it.
 */
final class Limits {
    /** A limit scenario's result: its rate (devices/s, measured run) and its first, cold run's rate. */
    record Result(double rate, double coldRate) {
    }

    private final Map<String, Result> measured = new HashMap<>();

    /** limit-rpc with {@code n} connected devices (the method-job's count). */
    Result measureRpc(int n) throws Exception {
        return remember("limit-rpc", n, LimitRpc.run(n, FleetProcess.Protocol.MQTT));
    }

    /** limit-rpc-amqp with {@code n} devices connected over AMQP (the method-job-amqp's count). */
    Result measureRpcAmqp(int n) throws Exception {
        return remember("limit-rpc-amqp", n, LimitRpc.run(n, FleetProcess.Protocol.AMQP));
    }

    /** limit-scan over {@code n} twins (the query's count). */
    Result measureScan(int n) {
        return remember("limit-scan", n, LimitScan.run(n));
    }

    Result measureStore(int n) throws Exception {
        return remember("limit-store", n, LimitStore.run(twinJobDevices(n), TwinFixture.jobChange()));
    }

    Result measureMerge(int n) throws Exception {
        return remember("limit-merge", n, LimitMerge.run(twinJobDevices(n), TwinFixture.jobChange()));
    }

    /** The method job's limit at {@code n} devices: limit-rpc. */
    double methodJob(int n) throws Exception {
        Result r = measured.get(key("limit-rpc", n));
        return (r != null ? r : measureRpc(n)).rate();
    }

    /** The AMQP method job's limit at {@code n} devices: limit-rpc-amqp. */
    double methodJobAmqp(int n) throws Exception {
        Result r = measured.get(key("limit-rpc-amqp", n));
        return (r != null ? r : measureRpcAmqp(n)).rate();
    }

    /** The query's limit over {@code n} twins: limit-scan. */
    double query(int n) {
        Result r = measured.get(key("limit-scan", n));
        return (r != null ? r : measureScan(n)).rate();
    }

    /**
     * The twin job's limit over {@code n} twins: the lower of limit-store and limit-merge (the job both merges
     * and stores every device; on two cores neither can go faster than its own limit).
     */
    double twinJob(int n) throws Exception {
        Result store = measured.get(key("limit-store", n));
        Result merge = measured.get(key("limit-merge", n));
        if (store == null || merge == null) {
            Device[] devices = twinJobDevices(n); // one input for both
            if (merge == null) {
                merge = remember("limit-merge", n, LimitMerge.run(devices, TwinFixture.jobChange()));
            }
            if (store == null) {
                store = remember("limit-store", n, LimitStore.run(devices, TwinFixture.jobChange()));
            }
        }
        BenchOutput.info("twin-job limit at %d twins: %s (store %.0f, merge+encode %.0f devices/s)", n,
                store.rate() <= merge.rate() ? "limit-store" : "limit-merge", store.rate(), merge.rate());
        return Math.min(store.rate(), merge.rate());
    }

    /** The twin-job scenario's registered devices (tags bench and building), in id order. */
    private static Device[] twinJobDevices(int n) {
        String run = "b" + UUID.randomUUID().toString().substring(0, 6);
        long start = System.nanoTime();
        Device[] devices = TwinFixture.register(run, n, Json.object().put("bench", run).put("building", "43")).devicesInIdOrder();
        BenchOutput.info("limits: %d twins registered in memory in %.1f s", n, (System.nanoTime() - start) / 1e9);
        System.gc(); // the registration's garbage goes now, not during the limits' timed passes
        return devices;
    }

    private Result remember(String scenario, int n, Result result) {
        measured.put(key(scenario, n), result);
        return result;
    }

    private static String key(String scenario, int n) {
        return scenario + "@" + n;
    }
}
