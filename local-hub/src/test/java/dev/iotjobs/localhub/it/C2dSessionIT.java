package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.jobs.DirectMethodsJobOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.c2d.C2dAck;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.PfxOptions;
import io.vertx.mqtt.MqttClient;
import io.vertx.mqtt.MqttClientOptions;
import io.vertx.mqtt.messages.MqttPublishMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Persistent sessions: cloud-to-device messages not acknowledged come back on the next connection, the SDK's
 * ABANDON and REJECT over MQTT, and method calls to devices that come online late or reconnect after a restart.
 */
@ExtendWith(LocalHubExtension.class)
class C2dSessionIT {

    @Test
    void aMessageNotAcknowledgedIsSentAgainOnTheNextConnection_withDup(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-redeliver"));
        String id = device.getDeviceId();
        Vertx vertx = Vertx.vertx();
        try {
            LinkedBlockingQueue<MqttPublishMessage> first = new LinkedBlockingQueue<>();
            MqttClientOptions noAck = options(hub, id, device.getPrimaryKey());
            noAck.setAutoAck(false);
            MqttClient a = MqttClient.create(vertx, noAck);
            a.publishHandler(first::add);
            await(a.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME));
            await(a.subscribe("devices/" + id + "/messages/devicebound/#", 1));
            hub.cloudToDevice().send(new C2dSend(id, "x".getBytes(StandardCharsets.UTF_8), Map.of("k", "v"), "m-1",
                    null, null, null, null, C2dAck.NONE, null));
            MqttPublishMessage m = first.poll(10, TimeUnit.SECONDS);
            assertNotNull(m);
            assertFalse(m.isDup());
            assertEquals(MqttQoS.AT_LEAST_ONCE, m.qosLevel());
            assertTrue(m.topicName().startsWith("devices/" + id + "/messages/devicebound/%24.mid=m-1&"), m.topicName());
            await(a.disconnect()); // no PUBACK

            LinkedBlockingQueue<MqttPublishMessage> second = new LinkedBlockingQueue<>();
            MqttClient b = MqttClient.create(vertx, options(hub, id, device.getPrimaryKey()));
            b.publishHandler(second::add);
            await(b.connect(hub.mqttPort(), WellKnownKeys.HOST_NAME)); // no SUBSCRIBE: the session remembers it
            MqttPublishMessage again = second.poll(10, TimeUnit.SECONDS);
            assertNotNull(again, "sent again on the resumed session");
            assertTrue(again.isDup());
            assertEquals("x", again.payload().toString(StandardCharsets.UTF_8));
            long until = System.currentTimeMillis() + 10_000;
            while (hub.cloudToDevice().depth(id) > 0 && System.currentTimeMillis() < until) {
                Thread.sleep(20);
            }
            assertEquals(0, hub.cloudToDevice().depth(id), "the PUBACK completed it");
            await(b.disconnect());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** Over MQTT a device can only complete: the SDK acknowledges whatever its callback returns. */
    @Test
    void theSdksAbandonAndRejectOverMqttComplete(LocalHub hub) throws Exception {
        for (IotHubMessageResult result : new IotHubMessageResult[]{IotHubMessageResult.ABANDON, IotHubMessageResult.REJECT}) {
            Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-" + result.name().toLowerCase()));
            String id = device.getDeviceId();
            hub.cloudToDevice().send(C2dSend.of(id, new byte[]{1}));
            AtomicInteger calls = new AtomicInteger();
            DeviceClient client = new DeviceClient(TestDevices.connectionString(device), IotHubClientProtocol.MQTT);
            client.setMessageCallback((message, ctx) -> {
                calls.incrementAndGet();
                return result;
            }, null);
            client.open(false);
            try {
                long until = System.currentTimeMillis() + 10_000;
                while ((calls.get() == 0 || hub.cloudToDevice().depth(id) > 0) && System.currentTimeMillis() < until) {
                    Thread.sleep(20);
                }
                assertEquals(0, hub.cloudToDevice().depth(id), result + " over MQTT");
                Thread.sleep(300);
                assertEquals(1, calls.get(), "delivered once");
            } finally {
                client.close();
            }
        }
    }

    @Test
    void aMethodJobWaitingForADeviceReachesItWhenItComesOnlineAgain(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-jobl"));
        String id = device.getDeviceId();
        DeviceClient before = TestDevices.connect(device);
        before.subscribeToMethods((n, p, c) -> new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, null), null);
        before.close();
        awaitDisconnected(hub, id);
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        String jobId = "late-" + UUID.randomUUID();
        jobs.scheduleDirectMethod(jobId, "deviceId = '" + id + "'", "wake", new Date(),
                DirectMethodsJobOptions.builder().methodConnectTimeoutSeconds(30).methodResponseTimeoutSeconds(10)
                        .maxExecutionTimeSeconds(120).build());
        Thread.sleep(1500);
        AtomicInteger calls = new AtomicInteger();
        DeviceClient after = TestDevices.connect(device);
        try {
            after.subscribeToMethods((n, p, c) -> {
                calls.incrementAndGet();
                return new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, null);
            }, null);
            ScheduledJob done = JobsApiIT.awaitTerminal(jobs, jobId, 60_000);
            assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
            assertEquals(1, done.getJobStatistics().getSucceededCount());
            assertEquals(1, calls.get());
        } finally {
            after.close();
        }
    }

    /** The SDK reconnects after a hub restart without subscribing again: the remembered session still routes calls. */
    @Test
    void aDeviceThatReconnectsAfterAHubRestartStillGetsMethodCalls(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("c2d-restart"));
        String id = device.getDeviceId();
        DeviceClient client = TestDevices.connect(device);
        try {
            client.subscribeToMethods((n, p, c) -> new com.microsoft.azure.sdk.iot.device.twin.DirectMethodResponse(200, "still"), null);
            hub.restart();
            var response = new DirectMethodsClient(hub.hubConnectionString()).invoke(id, "again",
                    DirectMethodRequestOptions.builder().methodConnectTimeoutSeconds(60).methodResponseTimeoutSeconds(20).build());
            assertEquals(200, response.getStatus());
            assertEquals("still", response.getPayload(String.class));
        } finally {
            client.close();
        }
    }

    static void awaitDisconnected(LocalHub hub, String id) throws Exception {
        RegistryClient registry = new RegistryClient(hub.hubConnectionString());
        long until = System.currentTimeMillis() + 10_000;
        while (registry.getDevice(id).getConnectionState().toString().equalsIgnoreCase("connected")
                && System.currentTimeMillis() < until) {
            Thread.sleep(20);
        }
    }

    private static MqttClientOptions options(LocalHub hub, String id, String key) {
        MqttClientOptions o = new MqttClientOptions();
        o.setClientId(id);
        o.setUsername(WellKnownKeys.HOST_NAME + "/" + id + "/?api-version=2020-09-30");
        o.setPassword(SasToken.create(WellKnownKeys.HOST_NAME + "/devices/" + id, key, null,
                Instant.now().getEpochSecond() + 600));
        o.setCleanSession(false);
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
