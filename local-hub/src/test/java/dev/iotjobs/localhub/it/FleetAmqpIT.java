package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodResponse;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.fleet.AmqpFleet;
import dev.iotjobs.fleet.FleetDevices;
import dev.iotjobs.fleet.FleetSimulator;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fleet simulator's AMQP mode against the hub (the method-job-amqp benchmark's devices): hundreds of devices
 * on AMQP over TLS (put-token, then the telemetry and method link pairs, as the Java device SDK opens them) answer a
 * direct-method job once each; module identities answer their own methods; a wrong key is refused at the put-token.
 */
@ExtendWith(LocalHubExtension.class)
class FleetAmqpIT {
    private static final int DEVICES = 200;

    @Test
    void fleetOf200OverAmqp_methodJob_everyDeviceAnswersOnce(LocalHub hub) throws Exception {
        String run = "amqpfleet-" + UUID.randomUUID().toString().substring(0, 8);
        ObjectNode tags = Json.object();
        tags.put("run", run);
        List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, DEVICES, tags);
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        try (AmqpFleet fleet = AmqpFleet.connect(vertx, options(hub, 100), devices, Duration.ofSeconds(60))) {
            assertEquals(DEVICES, fleet.connectedCount());
            FleetSimulator.ConnectStats stats = fleet.connectStats();
            System.out.printf("[amqp fleet] connected %d devices in %d ms (%d retries)%n", DEVICES,
                    stats.elapsed().toMillis(), stats.retries());

            ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
            String jobId = "amqp-fleet-" + UUID.randomUUID();
            jobs.scheduleDirectMethod(jobId, "tags.run = '" + run + "'", "lockDoor", new Date(),
                    DirectMethodsJobOptions.builder().payload(Map.of("lockTime", "10m"))
                            .methodConnectTimeoutSeconds(5).methodResponseTimeoutSeconds(20)
                            .maxExecutionTimeSeconds(60).build());
            ScheduledJob done = Jobs.awaitTerminal(jobs, jobId, 40_000, 200);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(DEVICES, done.getJobStatistics().getDeviceCount());
            assertEquals(DEVICES, done.getJobStatistics().getSucceededCount());
            assertEquals(0, done.getJobStatistics().getFailedCount());

            // The job's statistics say the hub got every answer; the devices' counters say each answered once.
            assertEquals(DEVICES, fleet.totalMethodCalls());
            assertEquals(0, fleet.totalUnknownMethodCalls());
            for (FleetSimulator.DeviceCredentials d : devices) {
                assertEquals(1, fleet.methodCalls(d.deviceId()), d.deviceId());
            }
            // Every answer was accepted by the hub (the latency is recorded on its disposition).
            waitUntil(() -> fleet.methodLatenciesNanos().size() == DEVICES, 10_000);
            assertEquals(DEVICES, fleet.methodLatenciesNanos().size());
        } finally {
            vertx.close().await();
        }
    }

    /** A module's put-token names its device (as the SDK's does) with the module's token; its methods reach it. */
    @Test
    void modulesOverAmqp_answerTheirMethods_unknownMethodIs404(LocalHub hub) throws Exception {
        String run = "amqpfleet-mod-" + UUID.randomUUID().toString().substring(0, 8);
        List<FleetSimulator.DeviceCredentials> devices = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, 2, null);
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        List<FleetSimulator.DeviceCredentials> modules = new ArrayList<>();
        for (FleetSimulator.DeviceCredentials d : devices) {
            Module m = registry.addModule(new Module(d.deviceId(), "sim"));
            modules.add(FleetSimulator.DeviceCredentials.module(d.deviceId(), "sim", m.getPrimaryKey()));
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        try (AmqpFleet fleet = AmqpFleet.connect(vertx, options(hub, 10), modules, Duration.ofSeconds(30))) {
            assertEquals(2, fleet.connectedCount());
            String deviceId = devices.get(0).deviceId();
            DirectMethodsClient methods = new DirectMethodsClient(hub.hubConnectionString());
            DirectMethodRequestOptions timeouts = DirectMethodRequestOptions.builder().methodResponseTimeoutSeconds(10).build();
            DirectMethodResponse ok = methods.invoke(deviceId, "sim", "lockDoor", timeouts);
            assertEquals(200, ok.getStatus());
            assertTrue(ok.getPayloadAsJsonString().contains("lockDoor called successfully"), ok.getPayloadAsJsonString());
            waitUntil(() -> fleet.methodCalls(deviceId + "/sim") == 1, 5_000);
            assertEquals(1, fleet.totalMethodCalls(), "only that module was called");

            DirectMethodResponse unknown = methods.invoke(deviceId, "sim", "reboot", timeouts);
            assertEquals(404, unknown.getStatus());
            waitUntil(() -> fleet.totalUnknownMethodCalls() == 1, 5_000);
        } finally {
            vertx.close().await();
        }
    }

    /** A device whose key is not the registered one is refused at the put-token, and the simulator says so. */
    @Test
    void wrongKey_putTokenRefused_connectFailsWithTheHubsAnswer(LocalHub hub) throws Exception {
        String run = "amqpfleet-bad-" + UUID.randomUUID().toString().substring(0, 8);
        FleetSimulator.DeviceCredentials registered = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY).bulkCreate(run, 1, null).get(0);
        FleetSimulator.DeviceCredentials wrong = new FleetSimulator.DeviceCredentials(registered.deviceId(), FleetDevices.newKey());
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        try {
            Exception e = assertThrows(Exception.class,
                    () -> AmqpFleet.connect(vertx, options(hub, 1), List.of(wrong), Duration.ofSeconds(30)).close());
            assertTrue(e.getMessage().contains("put-token") && e.getMessage().contains("401"), e.getMessage());
        } finally {
            vertx.close().await();
        }
    }

    private static AmqpFleet.Options options(LocalHub hub, int concurrency) {
        return new AmqpFleet.Options(WellKnownKeys.HOST_NAME, hub.amqpPort(), hub.trustStore(),
                WellKnownKeys.TRUST_STORE_PASSWORD, concurrency);
    }

    private static void waitUntil(BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(condition.getAsBoolean(), "condition not met within " + millis + " ms");
    }
}
