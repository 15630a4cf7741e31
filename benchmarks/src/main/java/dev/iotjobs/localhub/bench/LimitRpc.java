package dev.iotjobs.localhub.bench;

import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The limit-rpc scenario: the method-job's fleet (same process, JVM options and device count) against
 * {@link LimitRpcServer} instead of the hub, with the hub's default in-flight limit. Its rate is what loopback
 * MQTT over TLS allows at that concurrency on this machine: the ceiling of the method job.
 */
final class LimitRpc {
    private LimitRpc() {
    }

    static Limits.Result run(int n) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(BenchHub.dataDirectory());
        List<FleetSimulator.DeviceCredentials> devices = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // Any credentials do: the server checks none (the fleet still signs a SAS token per device).
            devices.add(new FleetSimulator.DeviceCredentials("limit-" + i, FleetDevices.newKey()));
        }
        int maxInFlight = HubConfig.DEFAULT_METHODS_IN_FLIGHT;
        try (LimitRpcServer server = LimitRpcServer.start(ca);
             FleetProcess fleet = FleetProcess.start(devices, server.port(), ca.trustStorePath())) {
            String line = fleet.awaitLine("CONNECTED");
            BenchOutput.info("limit-rpc: connected %d simulated devices in %s s (separate JVM), %d in flight",
                    n, line.split(" ")[2], maxInFlight);
            server.awaitReady(n, 60_000);
            // The method-job's rounds: warm-up rounds, then the median of the measured ones.
            int warmups = Integer.getInteger("bench.method.warmups", 8);
            int measured = Integer.getInteger("bench.method.measured", 3);
            int rounds = warmups + measured;
            double coldSeconds = 0;
            List<LimitRpcServer.RoundResult> results = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                LimitRpcServer.RoundResult r = server.round(maxInFlight, 600_000);
                if (round == 1) {
                    coldSeconds = r.seconds();
                }
                BenchOutput.info("limit-rpc %s round %d: %.3f s (%.0f devices/s), p50 %d ms", round <= warmups ? "warm-up" : "measured",
                        round <= warmups ? round : round - warmups, r.seconds(), n / r.seconds(),
                        BenchOutput.percentile(r.sortedLatencyMillis(), 50));
                if (round > warmups) {
                    results.add(r);
                }
            }
            results.sort(Comparator.comparingDouble(LimitRpcServer.RoundResult::seconds));
            LimitRpcServer.RoundResult median = results.get(results.size() / 2);
            long heap = BenchHub.heapAfterGcMb();
            fleet.checkCalls((long) n * rounds);
            BenchOutput.bench("limit-rpc", n, median.seconds(), heap, median.sortedLatencyMillis(), Double.NaN, n / coldSeconds);
            return new Limits.Result(n / median.seconds(), n / coldSeconds);
        }
    }
}
