package dev.iotjobs.localhub.fault;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubLimits;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device that floods twin GETs and never reads cannot make the hub buffer without bound. The
 * hub (default 1 MiB outbound limit) disconnects it, without waiting for the device to read; other devices and the service keep working, and the
 * offender can connect again. A device that reads but sends too many twin requests at once gets 429.
 */
class SlowReaderIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static LocalHub hub;
    private static HubDevices devices;
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        hub = OwnHub.start(HubLimits.DEFAULTS.withMqttTwinRequestsInFlight(4));
        devices = new HubDevices(hub);
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        HubDevices.await(vertx.close());
        hub.close();
    }

    /** Gives the device's twin 28 KB of desired properties, so that every GET answer is large. */
    private static void bigTwin(String id) throws IOException {
        StringBuilder desired = new StringBuilder("{\"properties\":{\"desired\":{");
        for (int i = 0; i < 7; i++) {
            desired.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":\"").append("v".repeat(4000)).append('"');
        }
        desired.append("}}}");
        RawHttp.Response r = devices.http().send("PATCH", "/twins/" + id + "?" + RawHttp.API, desired.toString());
        assertEquals(200, r.status(), r.toString());
    }

    private static RawMqtt connectRaw(HubDevices.Registered d, int receiveBuffer) throws Exception {
        RawMqtt mqtt = RawMqtt.open(hub, receiveBuffer);
        mqtt.send(RawMqtt.connect(d.id(), d.username(), d.token(), 60));
        RawMqtt.Packet connack = mqtt.await(RawMqtt.CONNACK);
        assertNotNull(connack);
        assertEquals(0, connack.body()[1], "CONNACK accepted");
        mqtt.send(RawMqtt.subscribe(1, "$iothub/twin/res/#", 0));
        assertNotNull(mqtt.await(RawMqtt.SUBACK));
        return mqtt;
    }

    @Test
    void aDeviceThatFloodsTwinGetsAndNeverReadsIsDisconnected() throws Exception {
        HubDevices.Registered offender = devices.register("flood");
        bigTwin(offender.id());
        int sent = 0;
        try (RawMqtt mqtt = connectRaw(offender, 4096)) {
            // Batches of 100 GETs per write; without a limit the hub would queue ~8 KB per GET for ever.
            try {
                for (; sent < 30_000; sent += 100) {
                    ByteArrayOutputStream batch = new ByteArrayOutputStream();
                    for (int i = 0; i < 100; i++) {
                        batch.writeBytes(RawMqtt.publish("$iothub/twin/GET/?$rid=" + (sent + i), new byte[0], 0, 0));
                    }
                    mqtt.send(batch.toByteArray());
                }
            } catch (IOException e) {
                // the hub closed the connection: expected
            }
            // Without reading a byte: the hub must let the connection go by itself (a close that waits for the
            // device to take what is queued would never finish).
            assertTrue(disconnectedWithin(offender.id(), 15_000),
                    "the hub must disconnect a device that does not read (sent " + sent + " GETs)");
            assertTrue(mqtt.closedByHub());
        }

        // The hub still serves the service and another device...
        HubDevices.Registered other = devices.register("normal");
        assertEquals(200, devices.http().send("GET", "/twins/" + offender.id() + "?" + RawHttp.API, null).status());
        assertEquals(200, twinGetStatus(other));
        // ...and the offender itself, once it behaves (the device SDK reconnects by itself).
        assertEquals(200, twinGetStatus(offender));
    }

    @Test
    void tooManyTwinRequestsAtOnceAre429AndEveryRequestIsAnswered() throws Exception {
        HubDevices.Registered d = devices.register("burst");
        try (RawMqtt mqtt = connectRaw(d, 0)) {
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (int i = 0; i < 50; i++) {
                burst.writeBytes(RawMqtt.publish("$iothub/twin/GET/?$rid=" + i, new byte[0], 0, 0));
            }
            mqtt.send(burst.toByteArray());
            Map<String, Integer> statusByRid = new HashMap<>();
            while (statusByRid.size() < 50) {
                RawMqtt.Packet p = mqtt.await(RawMqtt.PUBLISH);
                assertNotNull(p, "answers missing: got " + statusByRid.size());
                String topic = p.publishTopic();
                String rid = topic.substring(topic.indexOf("$rid=") + 5).split("&")[0];
                int status = Integer.parseInt(topic.substring("$iothub/twin/res/".length(), "$iothub/twin/res/".length() + 3));
                assertEquals(null, statusByRid.put(rid, status), "one answer per request");
                if (status == 429) {
                    String body = new String(p.body(), 2 + topic.length(), p.body().length - 2 - topic.length(), StandardCharsets.UTF_8);
                    assertEquals(429001, MAPPER.readTree(body).path("errorCode").asInt(), body);
                }
            }
            assertTrue(statusByRid.containsValue(200), statusByRid.toString());
            assertTrue(statusByRid.containsValue(429), "at most 4 in flight: a burst of 50 is throttled " + statusByRid);
        }
    }

    private static boolean disconnectedWithin(String id, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            RawHttp.Response twin = devices.http().send("GET", "/twins/" + id + "?" + RawHttp.API, null);
            if ("Disconnected".equals(MAPPER.readTree(twin.body()).path("connectionState").asText())) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** Connects with Vert.x's MQTT client, asks for the twin once and returns the answer's status. */
    private static int twinGetStatus(HubDevices.Registered d) throws Exception {
        MqttClient client = HubDevices.await(devices.connect(vertx, d.id(), d.username(), d.token()));
        try {
            CompletableFuture<String> answer = new CompletableFuture<>();
            client.publishHandler(m -> answer.complete(m.topicName()));
            HubDevices.await(client.subscribe("$iothub/twin/res/#", 0));
            client.publish("$iothub/twin/GET/?$rid=1", Buffer.buffer(), MqttQoS.AT_MOST_ONCE, false, false);
            String topic = answer.get(15, TimeUnit.SECONDS);
            return Integer.parseInt(topic.substring("$iothub/twin/res/".length(), "$iothub/twin/res/".length() + 3));
        } finally {
            HubDevices.await(client.disconnect());
        }
    }
}
