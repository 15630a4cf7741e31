package dev.iotjobs.localhub.it;

import com.azure.messaging.eventhubs.EventHubClientBuilder;
import com.azure.messaging.eventhubs.EventHubConsumerAsyncClient;
import com.azure.messaging.eventhubs.models.EventPosition;
import com.azure.messaging.eventhubs.models.ReceiveOptions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import reactor.core.Disposable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fleet simulator's telemetry: simulated MQTT devices send QoS 1 messages with a bounded PUBACK window, and
 * the unmodified Event Hubs client reads every one back from the built-in endpoint, each device's in order.
 */
@ExtendWith(LocalHubExtension.class)
class FleetTelemetryIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void everyDeviceSendsItsMessages_andAReaderOfAllPartitionsGetsEachOnceInOrder(LocalHub hub) throws Exception {
        int devices = 40;
        int perDevice = 50;
        String run = "fleet-telemetry-" + UUID.randomUUID().toString().substring(0, 8);
        ObjectNode tags = Json.object();
        tags.put("run", run);
        List<FleetSimulator.DeviceCredentials> credentials = FleetDevices.localHub(WellKnownKeys.IOTHUBOWNER_KEY)
                .bulkCreate(run, devices, tags);

        // The reader starts at the end of every partition, before the devices send.
        EventHubConsumerAsyncClient consumer = new EventHubClientBuilder().connectionString(hub.eventHubsConnectionString())
                .consumerGroup(EventHubClientBuilder.DEFAULT_CONSUMER_GROUP_NAME).buildAsyncConsumerClient();
        Map<String, List<Long>> received = new ConcurrentHashMap<>();
        AtomicInteger total = new AtomicInteger();
        List<Disposable> readers = new ArrayList<>();
        for (String partition : consumer.getPartitionIds().collectList().block(Duration.ofSeconds(30))) {
            readers.add(consumer.receiveFromPartition(partition, EventPosition.latest(), new ReceiveOptions())
                    .subscribe(e -> {
                        String device = (String) e.getData().getSystemProperties().get("iothub-connection-device-id");
                        if (device != null && device.startsWith(run)) {
                            try {
                                JsonNode body = MAPPER.readTree(e.getData().getBody());
                                received.computeIfAbsent(device, d -> java.util.Collections.synchronizedList(new ArrayList<>()))
                                        .add(body.get("n").asLong());
                                assertEquals("1", e.getData().getProperties().get("fleet"));
                                total.incrementAndGet();
                            } catch (java.io.IOException ex) {
                                throw new IllegalStateException(ex);
                            }
                        }
                    }));
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        try {
            FleetSimulator.Options options = new FleetSimulator.Options(WellKnownKeys.HOST_NAME, hub.mqttPort(),
                    hub.trustStore(), WellKnownKeys.TRUST_STORE_PASSWORD, 50);
            try (FleetSimulator fleet = FleetSimulator.connect(vertx, options, credentials, Duration.ofSeconds(40))) {
                Thread.sleep(1000); // the receivers' links are attached (latest = what arrives from now on)
                FleetSimulator.TelemetryStats stats = fleet.sendTelemetry(
                        new FleetSimulator.TelemetryPlan(perDevice, 0, 8, 64)).get(60, TimeUnit.SECONDS);
                assertEquals((long) devices * perDevice, stats.messages());

                // A second run, paced: 20 messages/s per device.
                FleetSimulator.TelemetryStats paced = fleet.sendTelemetry(
                        new FleetSimulator.TelemetryPlan(10, 20, 2, 0)).get(60, TimeUnit.SECONDS);
                assertEquals(devices * 10L, paced.messages());
                assertTrue(paced.elapsed().toMillis() >= 400, "10 messages at 20/s take at least 0.45 s: " + paced.elapsed());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (total.get() < devices * (perDevice + 10) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(devices * (perDevice + 10), total.get(), "every message read back once");
            for (String device : received.keySet()) {
                List<Long> numbers = received.get(device);
                List<Long> expected = new ArrayList<>();
                for (long n = 0; n < perDevice; n++) {
                    expected.add(n);
                }
                for (long n = 0; n < 10; n++) {
                    expected.add(n);
                }
                assertEquals(expected, numbers, "device " + device + "'s messages in order");
            }
            assertEquals(devices, received.size());
        } finally {
            readers.forEach(Disposable::dispose);
            consumer.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
