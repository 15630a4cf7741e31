package dev.iotjobs.localhub.it;

import com.azure.core.amqp.exception.AmqpException;
import com.azure.messaging.eventhubs.EventData;
import com.azure.messaging.eventhubs.EventHubClientBuilder;
import com.azure.messaging.eventhubs.EventHubConsumerAsyncClient;
import com.azure.messaging.eventhubs.EventHubConsumerClient;
import com.azure.messaging.eventhubs.EventHubProperties;
import com.azure.messaging.eventhubs.PartitionProperties;
import com.azure.messaging.eventhubs.models.EventPosition;
import com.azure.messaging.eventhubs.models.PartitionEvent;
import com.azure.messaging.eventhubs.models.ReceiveOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in endpoint as a back end reads it: devices on the unmodified device SDK (MQTT and MQTT_WS) send
 * telemetry, the unmodified Event Hubs client ({@code azure-messaging-eventhubs}) reads it with the hub's
 * Event Hubs-compatible connection string.
 */
@ExtendWith(LocalHubExtension.class)
class EventHubsIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static EventHubConsumerClient consumer;

    @BeforeAll
    static void consumer(LocalHub hub) {
        consumer = new EventHubClientBuilder().connectionString(hub.eventHubsConnectionString())
                .consumerGroup(EventHubClientBuilder.DEFAULT_CONSUMER_GROUP_NAME).buildConsumerClient();
    }

    @AfterAll
    static void close() {
        consumer.close();
    }

    /** Sends {@code count} messages "{prefix}-{i}" with properties, and returns once each was acknowledged. */
    static void send(DeviceClient client, String prefix, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            Message m = new Message(prefix + "-" + i);
            m.setMessageId(prefix + "-id-" + i);
            m.setCorrelationId("corr-" + i);
            m.setContentType("application/json");
            m.setContentEncoding("utf-8");
            m.setProperty("index", Integer.toString(i));
            m.setProperty("a b", "c+d&e=f");
            client.sendEvent(m);
        }
    }

    /** All events of {@code deviceId} in its partition from {@code position} on, waiting until {@code expected} are there. */
    static List<PartitionEvent> read(LocalHub hub, String deviceId, EventPosition position, int expected) {
        String partition = Integer.toString(hub.telemetry().partitionOf(deviceId));
        List<PartitionEvent> events = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            events.clear();
            for (PartitionEvent e : consumer.receiveFromPartition(partition, 10_000, position, Duration.ofSeconds(2))) {
                if (deviceId.equals(e.getData().getSystemProperties().get("iothub-connection-device-id"))) {
                    events.add(e);
                }
            }
            if (events.size() >= expected || expected == 0) {
                return events;
            }
        }
        return events;
    }

    @Test
    void telemetryOverMqttAndWebSocketsReadsBackWithIotHubStamps(LocalHub hub) throws Exception {
        Device mqttDevice = TestDevices.register(hub, TestDevices.uniqueId("eh-mqtt"));
        Device wsDevice = TestDevices.register(hub, TestDevices.uniqueId("eh-ws"));
        DeviceClient mqtt = TestDevices.connect(mqttDevice);
        DeviceClient ws = TestDevices.webSocketClient(hub, TestDevices.connectionString(wsDevice));
        ws.open(false);
        try {
            send(mqtt, "mqtt", 3);
            send(ws, "ws", 2);
        } finally {
            mqtt.close();
            ws.close();
        }
        for (var device : List.of(Map.entry(mqttDevice, 3), Map.entry(wsDevice, 2))) {
            String id = device.getKey().getDeviceId();
            List<PartitionEvent> events = read(hub, id, EventPosition.earliest(), device.getValue());
            assertEquals(device.getValue(), events.size(), "events of " + id);
            long previous = -1;
            for (int i = 0; i < events.size(); i++) {
                PartitionEvent pe = events.get(i);
                EventData e = pe.getData();
                String prefix = id.startsWith("eh-mqtt") ? "mqtt" : "ws";
                assertEquals(prefix + "-" + i, e.getBodyAsString(), "body, in the order sent");
                assertEquals(prefix + "-id-" + i, e.getMessageId());
                assertEquals("corr-" + i, e.getCorrelationId());
                assertEquals("application/json", e.getContentType());
                assertEquals(Integer.toString(i), e.getProperties().get("index"));
                assertEquals("c+d&e=f", e.getProperties().get("a b"));
                Map<String, Object> system = e.getSystemProperties();
                assertEquals(id, system.get("iothub-connection-device-id"));
                assertNull(system.get("iothub-connection-module-id"));
                assertEquals("Telemetry", system.get("iothub-message-source"));
                assertTrue(String.valueOf(system.get("iothub-connection-auth-method")).contains("\"type\":\"sas\""));
                assertNotNull(system.get("iothub-connection-auth-generation-id"));
                assertNotNull(system.get("iothub-enqueuedtime"));
                assertEquals("utf-8", system.get("content-encoding"));
                assertTrue(e.getSequenceNumber() > previous, "sequence numbers increase");
                previous = e.getSequenceNumber();
                assertEquals(Long.toString(e.getSequenceNumber()), Long.toString(e.getOffset()));
                assertNotNull(e.getEnqueuedTime());
                assertEquals(Integer.toString(hub.telemetry().partitionOf(id)), pe.getPartitionContext().getPartitionId());
            }
        }
    }

    @Test
    void managementReadsTheEventHubAndItsPartitions(LocalHub hub) throws Exception {
        EventHubProperties properties = consumer.getEventHubProperties();
        assertEquals(hub.eventHubName(), properties.getName());
        assertEquals(List.of("0", "1", "2", "3"), properties.getPartitionIds().stream().toList());
        assertNotNull(properties.getCreatedAt());

        Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-mgmt"));
        DeviceClient client = TestDevices.connect(device);
        try {
            send(client, "m", 1);
        } finally {
            client.close();
        }
        String partition = Integer.toString(hub.telemetry().partitionOf(device.getDeviceId()));
        PartitionProperties p = consumer.getPartitionProperties(partition);
        assertEquals(partition, p.getId());
        assertFalse(p.isEmpty());
        List<PartitionEvent> events = read(hub, device.getDeviceId(), EventPosition.earliest(), 1);
        assertTrue(p.getLastEnqueuedSequenceNumber() >= events.get(0).getData().getSequenceNumber());
        assertTrue(p.getBeginningSequenceNumber() <= events.get(0).getData().getSequenceNumber());
        assertEquals(Long.toString(p.getLastEnqueuedSequenceNumber()), p.getLastEnqueuedOffset() + "");
    }

    @Test
    void readsFromASequenceNumberAndFromAnEnqueuedTime(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-pos"));
        DeviceClient client = TestDevices.connect(device);
        try {
            send(client, "p", 5);
        } finally {
            client.close();
        }
        String id = device.getDeviceId();
        List<PartitionEvent> all = read(hub, id, EventPosition.earliest(), 5);
        assertEquals(5, all.size());
        long third = all.get(2).getData().getSequenceNumber();
        List<PartitionEvent> exclusive = read(hub, id, EventPosition.fromSequenceNumber(third), 2);
        assertEquals(List.of("p-3", "p-4"), exclusive.stream().map(e -> e.getData().getBodyAsString()).toList());
        List<PartitionEvent> inclusive = read(hub, id, EventPosition.fromSequenceNumber(third, true), 3);
        assertEquals(List.of("p-2", "p-3", "p-4"), inclusive.stream().map(e -> e.getData().getBodyAsString()).toList());
        // fromOffset(long) is exclusive in azure-messaging-eventhubs 5.21.5.
        List<PartitionEvent> fromOffset = read(hub, id, EventPosition.fromOffset(all.get(2).getData().getOffset()), 2);
        assertEquals(List.of("p-3", "p-4"), fromOffset.stream().map(e -> e.getData().getBodyAsString()).toList());

        Instant time = all.get(2).getData().getEnqueuedTime();
        long expected = all.stream().filter(e -> e.getData().getEnqueuedTime().isAfter(time)).count();
        List<PartitionEvent> after = read(hub, id, EventPosition.fromEnqueuedTime(time), (int) expected);
        assertEquals(expected, after.size());
        for (PartitionEvent e : after) {
            assertTrue(e.getData().getEnqueuedTime().isAfter(time), "only events enqueued after " + time);
        }
    }

    @Test
    void latestSeesOnlyEventsEnqueuedAfterTheReceiverOpened(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-latest"));
        DeviceClient client = TestDevices.connect(device);
        EventHubConsumerAsyncClient async = new EventHubClientBuilder().connectionString(hub.eventHubsConnectionString())
                .consumerGroup("$Default").buildAsyncConsumerClient();
        BlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        Disposable subscription = null;
        try {
            send(client, "before", 1);
            String partition = Integer.toString(hub.telemetry().partitionOf(device.getDeviceId()));
            subscription = async.receiveFromPartition(partition, EventPosition.latest())
                    .filter(e -> device.getDeviceId().equals(e.getData().getSystemProperties().get("iothub-connection-device-id")))
                    .subscribe(e -> bodies.add(e.getData().getBodyAsString()));
            // The receiver's start is not observable: send until one arrives (those sent before it opened are not seen).
            String first = null;
            for (int i = 0; i < 60 && first == null; i++) {
                Message m = new Message("after-" + i);
                client.sendEvent(m);
                first = bodies.poll(500, TimeUnit.MILLISECONDS);
            }
            assertNotNull(first, "an event sent after the receiver opened arrives");
            assertTrue(first.startsWith("after-"), "latest skips what was enqueued before: " + first);
        } finally {
            if (subscription != null) {
                subscription.dispose();
            }
            async.close();
            client.close();
        }
    }

    @Test
    void aPolicyWithoutServiceConnectIsRefused(LocalHub hub) {
        EventHubConsumerClient refused = new EventHubClientBuilder()
                .connectionString(hub.eventHubsConnectionString("registryRead", WellKnownKeys.REGISTRY_READ_KEY))
                .consumerGroup("$Default").buildConsumerClient();
        try {
            AmqpException e = assertThrows(AmqpException.class, refused::getEventHubProperties);
            assertTrue(String.valueOf(e.getMessage()).contains("Service Connect"), e.getMessage());
        } finally {
            refused.close();
        }
        EventHubConsumerAsyncClient async = new EventHubClientBuilder()
                .connectionString(hub.eventHubsConnectionString("registryReadWrite", WellKnownKeys.REGISTRY_READ_WRITE_KEY))
                .consumerGroup("$Default").buildAsyncConsumerClient();
        try {
            Throwable error = assertThrows(Throwable.class, () -> async.receiveFromPartition("0", EventPosition.earliest())
                    .blockFirst(WAIT));
            assertInstanceOf(AmqpException.class, rootAmqp(error), String.valueOf(error));
        } finally {
            async.close();
        }
    }

    private static Throwable rootAmqp(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AmqpException) {
                return c;
            }
        }
        return t;
    }

    @Test
    void aHigherEpochReceiverEvictsALowerOne(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-epoch"));
        DeviceClient client = TestDevices.connect(device);
        String partition = Integer.toString(hub.telemetry().partitionOf(device.getDeviceId()));
        EventHubConsumerAsyncClient first = new EventHubClientBuilder().connectionString(hub.eventHubsConnectionString())
                .consumerGroup("$Default").buildAsyncConsumerClient();
        EventHubConsumerAsyncClient second = new EventHubClientBuilder().connectionString(hub.eventHubsConnectionString())
                .consumerGroup("$Default").buildAsyncConsumerClient();
        CompletableFuture<Throwable> firstEnded = new CompletableFuture<>();
        BlockingQueue<String> firstBodies = new LinkedBlockingQueue<>();
        BlockingQueue<String> secondBodies = new LinkedBlockingQueue<>();
        Disposable a = null;
        Disposable b = null;
        try {
            send(client, "e", 1);
            a = first.receiveFromPartition(partition, EventPosition.earliest(), new ReceiveOptions().setOwnerLevel(1L))
                    .subscribe(e -> firstBodies.add(e.getData().getBodyAsString()), firstEnded::complete,
                            () -> firstEnded.complete(null));
            // The first receiver reads (it is open) before the second one opens.
            assertNotNull(firstBodies.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
            b = second.receiveFromPartition(partition, EventPosition.earliest(), new ReceiveOptions().setOwnerLevel(2L))
                    .subscribe(e -> secondBodies.add(e.getData().getBodyAsString()));
            assertNotNull(secondBodies.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
            Throwable ended = firstEnded.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertNotNull(ended, "the lower epoch's receive ends with an error");
            assertTrue(String.valueOf(rootAmqp(ended).getMessage()).contains("epoch"), String.valueOf(ended));
        } finally {
            if (a != null) {
                a.dispose();
            }
            if (b != null) {
                b.dispose();
            }
            first.close();
            second.close();
            client.close();
        }
    }

    @Test
    void acknowledgedTelemetrySurvivesARestart(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-restart"));
        DeviceClient client = TestDevices.connect(device);
        try {
            send(client, "r", 3);
        } finally {
            client.close();
        }
        List<Long> before = read(hub, device.getDeviceId(), EventPosition.earliest(), 3).stream()
                .map(e -> e.getData().getSequenceNumber()).toList();
        hub.restart();
        consumer.close();
        consumer(hub);
        List<PartitionEvent> after = read(hub, device.getDeviceId(), EventPosition.earliest(), 3);
        assertEquals(List.of("r-0", "r-1", "r-2"), after.stream().map(e -> e.getData().getBodyAsString()).toList());
        assertEquals(before, after.stream().map(e -> e.getData().getSequenceNumber()).toList(), "same sequence numbers");
    }

    @Test
    void aModulesTelemetryCarriesItsModuleId(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-module"));
        new com.microsoft.azure.sdk.iot.service.registry.RegistryClient(hub.hubConnectionString())
                .addModule(new com.microsoft.azure.sdk.iot.service.registry.Module(device.getDeviceId(), "sensor"));
        com.microsoft.azure.sdk.iot.device.ModuleClient module = new com.microsoft.azure.sdk.iot.device.ModuleClient(
                hub.moduleConnectionString(device.getDeviceId(), "sensor"), IotHubClientProtocol.MQTT);
        module.open(false);
        try {
            module.sendEvent(new Message("from-module"));
        } finally {
            module.close();
        }
        EventData e = read(hub, device.getDeviceId(), EventPosition.earliest(), 1).get(0).getData();
        assertEquals("from-module", e.getBodyAsString());
        assertEquals("sensor", e.getSystemProperties().get("iothub-connection-module-id"));
        assertTrue(String.valueOf(e.getSystemProperties().get("iothub-connection-auth-method")).contains("\"scope\":\"module\""));
    }

    @Test
    void theIotHubPathInsteadOfTheEventHubNameGetsAClearError(LocalHub hub) {
        String wrong = hub.eventHubsConnectionString().replace("EntityPath=" + hub.eventHubName(), "EntityPath=messages/events");
        EventHubConsumerClient client = new EventHubClientBuilder().connectionString(wrong)
                .consumerGroup("$Default").buildConsumerClient();
        try {
            AmqpException e = assertThrows(AmqpException.class, client::getEventHubProperties);
            assertTrue(e.getMessage().contains("EntityPath=" + hub.eventHubName()), e.getMessage());
        } finally {
            client.close();
        }
    }
}
