package dev.iotjobs.localhub.bench;

import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;

import dev.iotjobs.localhub.config.WellKnownKeys;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The limit-rpc scenarios: the method-job's fleet (same process, JVM options, protocol and device count) against a
 * minimal server instead of the hub, with the hub's default in-flight limit. limit-rpc runs the MQTT fleet against
 * {@link LimitRpcServer}, limit-rpc-amqp the AMQP fleet against {@link LimitRpcAmqpServer}. The rate is what loopback
 * MQTT (or AMQP) over TLS allows at that concurrency on this machine: the ceiling of the method job over that protocol.
 */
final class LimitRpc {
    private LimitRpc() {
    }

    /** A minimal server of one protocol: it calls lockDoor on every connected device, one round at a time. */
    interface Server extends AutoCloseable {
        /** As many event loops as the hub has by default. */
        int EVENT_LOOPS = HubConfig.builder().build().eventLoops();

        int port();

        /** Devices that can take method requests now (subscribed, or with both method links attached). */
        int ready();

        /** Waits until {@code n} devices can take method requests. */
        default void awaitReady(int n, long timeoutMillis) throws InterruptedException, TimeoutException {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (ready() < n) {
                if (System.currentTimeMillis() > deadline) {
                    throw new TimeoutException(ready() + " of " + n + " devices ready for method requests");
                }
                Thread.sleep(10);
            }
        }

        /** A Vert.x for a limit server: as many event loops as the hub's default (one per processor). */
        static Vertx newVertx() {
            return Vertx.vertx(new VertxOptions().setEventLoopPoolSize(EVENT_LOOPS).setBlockedThreadCheckInterval(2000));
        }

        /**
         * One listener per event loop, each started by {@code listen} in its own verticle instance (as the hub's
         * listeners are); returns once all listen.
         */
        static void listenOnEveryEventLoop(Vertx vertx, Supplier<Future<?>> listen) throws Exception {
            vertx.deployVerticle(() -> new VerticleBase() {
                @Override
                public Future<?> start() {
                    return listen.get();
                }
            }, new DeploymentOptions().setInstances(EVENT_LOOPS)).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
        }

        /** One port for every event loop's listener (Vert.x shares a port between listeners only when it is concrete). */
        static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(WellKnownKeys.HOST_NAME))) {
                return s.getLocalPort();
            }
        }

        /**
         * One round: a {@code lockDoor} request to every ready device, at most {@code maxInFlight} unanswered at
         * once; returns when every device has answered its request.
         */
        LimitRpcServer.RoundResult round(int maxInFlight, long timeoutMillis) throws Exception;

        @Override
        void close();
    }

    static Limits.Result run(int n, FleetProcess.Protocol protocol) throws Exception {
        String scenario = protocol == FleetProcess.Protocol.AMQP ? "limit-rpc-amqp" : "limit-rpc";
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(BenchHub.dataDirectory());
        List<FleetSimulator.DeviceCredentials> devices = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // Any credentials do: the server checks none (the fleet still signs a SAS token per device).
            devices.add(new FleetSimulator.DeviceCredentials("limit-" + i, FleetDevices.newKey()));
        }
        int maxInFlight = HubConfig.DEFAULT_METHODS_IN_FLIGHT;
        try (Server server = protocol == FleetProcess.Protocol.AMQP ? LimitRpcAmqpServer.start(ca) : LimitRpcServer.start(ca);
             FleetProcess fleet = FleetProcess.start(devices, protocol, server.port(), ca.trustStorePath())) {
            String line = fleet.awaitLine("CONNECTED");
            BenchOutput.info("%s: connected %d simulated devices in %s s (separate JVM), %d in flight",
                    scenario, n, line.split(" ")[2], maxInFlight);
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
                BenchOutput.info("%s %s round %d: %.3f s (%.0f devices/s), p50 %d ms", scenario,
                        round <= warmups ? "warm-up" : "measured", round <= warmups ? round : round - warmups,
                        r.seconds(), n / r.seconds(), BenchOutput.percentile(r.sortedLatencyMillis(), 50));
                if (round > warmups) {
                    results.add(r);
                }
            }
            results.sort(Comparator.comparingDouble(LimitRpcServer.RoundResult::seconds));
            LimitRpcServer.RoundResult median = results.get(results.size() / 2);
            long heap = BenchHub.heapAfterGcMb();
            fleet.checkCalls((long) n * rounds);
            BenchOutput.bench(scenario, n, median.seconds(), heap, median.sortedLatencyMillis(), Double.NaN, n / coldSeconds);
            return new Limits.Result(n / median.seconds(), n / coldSeconds);
        }
    }
}
