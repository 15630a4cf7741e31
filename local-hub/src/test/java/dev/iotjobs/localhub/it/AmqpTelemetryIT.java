package dev.iotjobs.localhub.it;

import com.azure.messaging.eventhubs.EventData;
import com.azure.messaging.eventhubs.EventHubClientBuilder;
import com.azure.messaging.eventhubs.EventHubConsumerClient;
import com.azure.messaging.eventhubs.models.EventPosition;
import com.azure.messaging.eventhubs.models.PartitionEvent;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Telemetry of AMQPS and AMQPS_WS devices reaches the built-in endpoint like MQTT's: read back with the unmodified
 * Event Hubs client, in order, with the device's properties and IoT Hub's stamps.
 */
@ExtendWith(LocalHubExtension.class)
class AmqpTelemetryIT {

    @Test
    void telemetryOverAmqpsAndAmqpsWs_readsBackFromTheBuiltInEndpoint(LocalHub hub) throws Exception {
        try (EventHubConsumerClient consumer = new EventHubClientBuilder().connectionString(hub.eventHubsConnectionString())
                .consumerGroup(EventHubClientBuilder.DEFAULT_CONSUMER_GROUP_NAME).buildConsumerClient()) {
            for (IotHubClientProtocol protocol : new IotHubClientProtocol[]{IotHubClientProtocol.AMQPS, IotHubClientProtocol.AMQPS_WS}) {
                Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-eh"));
                String id = device.getDeviceId();
                DeviceClient client = AmqpDeviceIT.client(hub, TestDevices.connectionString(device), protocol);
                client.open(false);
                try {
                    EventHubsIT.send(client, "amqp", 3); // sendEvent returns once the hub accepted the message
                } finally {
                    client.close();
                }
                String partition = Integer.toString(hub.telemetry().partitionOf(id));
                List<EventData> events = new ArrayList<>();
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (events.size() < 3 && System.nanoTime() < deadline) {
                    events.clear();
                    for (PartitionEvent e : consumer.receiveFromPartition(partition, 10_000, EventPosition.earliest(),
                            Duration.ofSeconds(2))) {
                        if (id.equals(e.getData().getSystemProperties().get("iothub-connection-device-id"))) {
                            events.add(e.getData());
                        }
                    }
                }
                assertEquals(3, events.size(), "events of " + id + " over " + protocol);
                for (int i = 0; i < 3; i++) {
                    EventData e = events.get(i);
                    assertEquals("amqp-" + i, e.getBodyAsString(), "body, in the order sent");
                    assertEquals("amqp-id-" + i, e.getMessageId());
                    assertEquals("corr-" + i, e.getCorrelationId());
                    assertEquals("application/json", e.getContentType());
                    assertEquals(Integer.toString(i), e.getProperties().get("index"));
                    assertEquals("c+d&e=f", e.getProperties().get("a b"));
                    Object authMethod = e.getSystemProperties().get("iothub-connection-auth-method");
                    assertTrue(String.valueOf(authMethod).contains("sas"), "auth method stamp: " + authMethod);
                }
            }
        }
    }
}
