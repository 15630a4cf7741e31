package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hundreds of simulated MQTT devices (event loops, no thread per device) run one method and one twin job. */
@ExtendWith(LocalHubExtension.class)
class FleetSimulatorIT {
    private static final int DEVICES = 300;

    @Test
    void fleetOf300_methodJobAndTwinJob_everyDeviceAnswersOnceAndGetsOnePatch(LocalHub hub) throws Exception {
        String run = "fleet-" + UUID.randomUUID().toString().substring(0, 8);
        ObjectNode tags = Json.object();
        tags.put("run", run);
        long t0 = System.nanoTime();
        List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, DEVICES, tags);
        long registeredMs = (System.nanoTime() - t0) / 1_000_000;

        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        try {
            FleetSimulator.Options options = new FleetSimulator.Options(WellKnownKeys.HOST_NAME, hub.mqttPort(),
                    hub.trustStore(), WellKnownKeys.TRUST_STORE_PASSWORD, 200);
            try (FleetSimulator fleet = FleetSimulator.connect(vertx, options, devices, Duration.ofSeconds(40))) {
                FleetSimulator.ConnectStats stats = fleet.connectStats();
                System.out.printf("[fleet] registered %d devices in %d ms; connected in %d ms (%.0f/s, %d retries)%n",
                        DEVICES, registeredMs, stats.elapsed().toMillis(), stats.devicesPerSecond(), stats.retries());
                assertEquals(DEVICES, fleet.connectedCount());

                ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
                String condition = "tags.run = '" + run + "'";
                String methodJob = "fleet-method-" + UUID.randomUUID();
                jobs.scheduleDirectMethod(methodJob, condition, "lockDoor", new Date(),
                        DirectMethodsJobOptions.builder().payload(Map.of("lockTime", "10m"))
                                .methodConnectTimeoutSeconds(5).methodResponseTimeoutSeconds(20)
                                .maxExecutionTimeSeconds(60).build());
                Twin patch = new Twin();
                patch.getDesiredProperties().put("building", 43);
                String twinJob = "fleet-twin-" + UUID.randomUUID();
                jobs.scheduleUpdateTwin(twinJob, condition, patch, new Date(), 60);

                long jobsStart = System.nanoTime();
                ScheduledJob methodDone = awaitTerminal(jobs, methodJob, 40_000);
                ScheduledJob twinDone = awaitTerminal(jobs, twinJob, 40_000);
                System.out.printf("[fleet] both jobs terminal after %d ms%n", (System.nanoTime() - jobsStart) / 1_000_000);

                assertStatistics(methodDone);
                assertStatistics(twinDone);

                // Job statistics say the hub got every answer; the devices' own counters say each answered once.
                waitUntil(() -> fleet.totalDesiredPatches() == DEVICES, 10_000);
                assertEquals(DEVICES, fleet.totalMethodCalls());
                assertEquals(DEVICES, fleet.totalDesiredPatches());
                assertEquals(0, fleet.totalUnknownMethodCalls());
                for (FleetSimulator.DeviceCredentials d : devices) {
                    assertEquals(1, fleet.methodCalls(d.deviceId()), d.deviceId());
                    assertEquals(1, fleet.desiredPatches(d.deviceId()), d.deviceId());
                    String desired = fleet.lastDesiredPatch(d.deviceId());
                    assertEquals(43, Json.parse(desired.getBytes()).path("building").asInt(), desired);
                }
                List<Long> latencies = fleet.methodLatenciesNanos();
                assertEquals(DEVICES, latencies.size());
                System.out.printf("[fleet] method answer latency (receipt -> PUBACK): median %.2f ms, max %.2f ms%n",
                        latencies.stream().sorted().toList().get(latencies.size() / 2) / 1e6,
                        latencies.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6);
            }
        } finally {
            vertx.close().await();
        }
    }

    /** The simulator connects module identities too (client id deviceId/moduleId, module SAS token). */
    @Test
    void fleetOfModules_answersModuleMethodsAndGetsModulePatches(LocalHub hub) throws Exception {
        String run = "fleet-mod-" + UUID.randomUUID().toString().substring(0, 8);
        List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, 3, null);
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        List<FleetSimulator.DeviceCredentials> modules = new ArrayList<>();
        for (FleetSimulator.DeviceCredentials d : devices) {
            Module m = registry.addModule(new Module(d.deviceId(), "sim"));
            modules.add(FleetSimulator.DeviceCredentials.module(d.deviceId(), "sim", m.getPrimaryKey()));
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        try {
            FleetSimulator.Options options = new FleetSimulator.Options(WellKnownKeys.HOST_NAME, hub.mqttPort(),
                    hub.trustStore(), WellKnownKeys.TRUST_STORE_PASSWORD, 10);
            try (FleetSimulator fleet = FleetSimulator.connect(vertx, options, modules, Duration.ofSeconds(20))) {
                assertEquals(3, fleet.connectedCount());
                String deviceId = devices.get(0).deviceId();
                var answer = new DirectMethodsClient(hub.hubConnectionString()).invoke(deviceId, "sim", "lockDoor",
                        DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build());
                assertEquals(200, answer.getStatus());
                // The simulator counts a call once its answer's publish completed, which can be just after the
                // service has the answer.
                waitUntil(() -> fleet.methodCalls(deviceId + "/sim") == 1, 5_000);
                assertEquals(1, fleet.methodCalls(deviceId + "/sim"));
                Twin patch = new Twin(deviceId, "sim");
                patch.getDesiredProperties().put("building", 43);
                new TwinClient(hub.hubConnectionString()).patch(patch);
                waitUntil(() -> fleet.desiredPatches(deviceId + "/sim") == 1, 10_000);
                assertEquals(1, fleet.totalDesiredPatches(), "only that module's twin changed");
            }
        } finally {
            vertx.close().await();
        }
    }

    /**
     * The simulator keeps TLS host name verification on: dialling the hub through a name that resolves to
     * 127.0.0.1 but is not in its certificate (this machine's host name) fails the handshake.
     */
    @Test
    void hostNameVerification_nameNotInCertificate_handshakeFails(LocalHub hub) throws Exception {
        String name = InetAddress.getLocalHost().getHostName();
        Assumptions.assumeTrue(
                InetAddress.getByName(name).getHostAddress().equals("127.0.0.1")
                        && !name.equals("localhost") && !name.matches("[0-9.]+"),
                "needs a host name other than localhost that resolves to 127.0.0.1");
        String run = "fleet-tls-" + UUID.randomUUID().toString().substring(0, 8);
        List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, 1, null);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        try {
            FleetSimulator.Options options = new FleetSimulator.Options(name, hub.mqttPort(),
                    hub.trustStore(), WellKnownKeys.TRUST_STORE_PASSWORD, 1);
            Exception e = Assertions.assertThrows(Exception.class,
                    () -> FleetSimulator.connect(vertx, options, devices, Duration.ofSeconds(20)).close());
            boolean tlsFailure = false;
            for (Throwable t = e; t != null; t = t.getCause()) {
                tlsFailure |= t instanceof SSLException
                        || t instanceof CertificateException;
            }
            assertTrue(tlsFailure, "expected a TLS failure, got " + e);
        } finally {
            vertx.close().await();
        }
    }

    private static void assertStatistics(ScheduledJob job) {
        assertEquals(ScheduledJobStatus.completed, job.getJobStatus(), job.getJobId());
        assertEquals(DEVICES, job.getJobStatistics().getDeviceCount(), job.getJobId());
        assertEquals(DEVICES, job.getJobStatistics().getSucceededCount(), job.getJobId());
        assertEquals(0, job.getJobStatistics().getFailedCount(), job.getJobId());
        assertEquals(0, job.getJobStatistics().getPendingCount(), job.getJobId());
        assertEquals(0, job.getJobStatistics().getRunningCount(), job.getJobId());
    }

    private static ScheduledJob awaitTerminal(ScheduledJobsClient jobs, String jobId, long millis) throws Exception {
        return Jobs.awaitTerminal(jobs, jobId, millis, 200);
    }

    private static void waitUntil(BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(condition.getAsBoolean(), "condition not met within " + millis + " ms");
    }
}
