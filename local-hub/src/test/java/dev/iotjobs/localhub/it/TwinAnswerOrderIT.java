package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PfxOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A twin request's PUBACK comes no sooner than the configured twin response delay after the request, and the answer
 * after the PUBACK, as from IoT Hub. iot-device-client 2.5.0 records a twin request as in flight only after Paho's
 * publish call has returned, under a lock the PUBACK handler does not take (see MqttDeviceHandler#answerTwin); a
 * PUBACK written in the same instant is sometimes taken for somebody else's and the request stays "in flight"
 * (re-sent after a reconnect).
 */
@ExtendWith(LocalHubExtension.class)
class TwinAnswerOrderIT {
    private LocalHub hub;
    private Vertx vertx;

    @BeforeEach
    void setUp(LocalHub hub) {
        this.hub = hub;
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void pubackComesAfterTheDelayAndBeforeTheAnswer() throws Exception {
        long delayNanos = hub.config().twinResponseDelay().toNanos();
        assertTrue(delayNanos > 0, "the default configuration delays twin answers");
        Device device = TestDevices.register(hub, TestDevices.uniqueId("twin-order"));
        MqttClient client = MqttClient.create(vertx, options(device));
        await(client.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME));
        try {
            List<String> events = new CopyOnWriteArrayList<>();
            long[] sentAt = new long[1];
            List<Long> pubackAfter = new CopyOnWriteArrayList<>();
            client.publishCompletionHandler(id -> {
                pubackAfter.add(System.nanoTime() - sentAt[0]);
                events.add("puback");
            });
            client.publishHandler(m -> events.add("answer " + m.topicName().substring(0, "$iothub/twin/res/200".length())));
            await(client.subscribe("$iothub/twin/res/#", 0));

            for (int i = 0; i < 8; i++) {
                String topic = i % 2 == 0 ? "$iothub/twin/GET/?$rid=" + i : "$iothub/twin/PATCH/properties/reported/?$rid=" + i;
                events.clear();
                sentAt[0] = System.nanoTime();
                await(client.publish(topic, Buffer.buffer(topic.contains("PATCH") ? "{\"a\":1}" : ""),
                        MqttQoS.AT_LEAST_ONCE, false, false));
                long deadline = System.currentTimeMillis() + 10_000;
                while (events.size() < 2 && System.currentTimeMillis() < deadline) {
                    Thread.sleep(5);
                }
                String status = topic.contains("GET") ? "200" : "204";
                assertEquals(List.of("puback", "answer $iothub/twin/res/" + status), events, topic);
                long after = pubackAfter.get(pubackAfter.size() - 1);
                assertTrue(after >= delayNanos, topic + ": PUBACK after " + after / 1000 + " µs");
            }
        } finally {
            if (client.isConnected()) {
                await(client.disconnect());
            }
        }
    }

    private MqttClientOptions options(Device device) {
        MqttClientOptions o = new MqttClientOptions();
        o.setClientId(device.getDeviceId());
        o.setUsername(WellKnownKeys.HOST_NAME + "/" + device.getDeviceId() + "/?api-version=2020-09-30");
        o.setPassword(SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + device.getDeviceId(), device.getPrimaryKey(),
                null, Instant.now().getEpochSecond() + 600));
        o.setSsl(true);
        o.setHostnameVerificationAlgorithm("HTTPS");
        o.setTrustOptions(new PfxOptions().setPath(hub.trustStore().toString())
                .setPassword(WellKnownKeys.TRUST_STORE_PASSWORD));
        return o;
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
