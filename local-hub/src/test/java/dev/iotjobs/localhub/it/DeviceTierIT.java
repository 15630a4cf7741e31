package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.transport.ExponentialBackoffWithJitter;
import com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubTooManyRequestsException;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.HubTier;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import dev.iotjobs.localhub.throttle.Operation;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device side of an S1 hub (100 new connections/s, 100 device-to-cloud sends/s, 100 twin reads/s, 50 twin
 * updates/s, a second's worth at once; 100 cloud-to-device sends/min, a minute's worth at once), through the unmodified device SDK over MQTT and AMQP. The backlog is 1 s
 * here (10 s by default) so that refusals come quickly. A flood of other clients is stood in for by
 * {@code HubThrottles.saturate} / {@code admit} on the hub's own throttles (deterministic, unlike a race of
 * hundreds of real connections on a shared machine); what is under test is what the hub does to the next
 * device and what the SDK makes of it.
 */
@ExtendWith(LocalHubExtension.class)
@HubTier(value = "S1", backlogMillis = 1000)
class DeviceTierIT {
    /** Throttled operations are answered (or refused) within this; everything here takes a few seconds. */
    private static final long WAIT_SECONDS = 60;

    /**
     * The class's cases share one hub and its throttles: each starts once what the one before reserved (a flood,
     * a burst) has drained, so that its own burst and delays are what it measures, whatever order JUnit runs them in.
     */
    @BeforeEach
    void throttlesDrained(LocalHub hub) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!hub.throttles().isIdle(Operation.DEVICE_CONNECTIONS, Operation.DEVICE_TO_CLOUD_SENDS,
                Operation.TWIN_READS, Operation.TWIN_UPDATES)) {
            assertTrue(System.nanoTime() < giveUp, "the throttles did not drain");
            Thread.sleep(50);
        }
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS"})
    void connectionFlood_isRefused_andTheSdkRetriesUntilItConnects(IotHubClientProtocol protocol, LocalHub hub)
            throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("tier-connect"));
        long start = System.nanoTime();
        hub.throttles().saturate(Operation.DEVICE_CONNECTIONS, 1500);

        // Over the backlog: MQTT gets CONNACK 3 (server unavailable), AMQP its connection closed with
        // com.microsoft:device-container-throttled; the SDK reports both as retryable.
        DeviceClient refused = new DeviceClient(TestDevices.connectionString(device), protocol);
        IotHubClientException e = assertThrows(IotHubClientException.class, () -> refused.open(false));
        assertEquals(protocol == IotHubClientProtocol.MQTT ? IotHubStatusCode.SERVER_BUSY : IotHubStatusCode.THROTTLED,
                e.getStatusCode());
        assertTrue(e.isRetryable(), "throttling is retryable");
        refused.close();

        // With retries the SDK backs off and connects once the flood has passed. Its first retry is immediate by
        // default; after a refused AMQP attempt the Java SDK (2.5.0) can then start the retry while the refused
        // connection's reactor thread is still ending, and that thread's last callback may release the retry's wait:
        // the SDK reports itself connected without a link (about 1 call in 250 in a loop here, whatever the hub does).
        // A first retry after 100 ms, like the later ones, leaves the SDK's teardown the time it needs.
        DeviceClient client = new DeviceClient(TestDevices.connectionString(device), protocol);
        client.setRetryPolicy(new ExponentialBackoffWithJitter(Integer.MAX_VALUE, 100, 10_000, 100, false));
        try {
            client.open(true);
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMillis >= 1500, "connected only after the flood: " + tookMillis + " ms");
        } finally {
            client.close();
        }
    }

    @Test
    void connectionBurst_overTheRate_isDelayedNotRefused(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("tier-burst"));
        long start = System.nanoTime();
        // 150 connections at once: 100 pass, the last waits half a second, and so does the device's after them.
        assertEquals(500, hub.throttles().admit(Operation.DEVICE_CONNECTIONS, 150), 20);
        DeviceClient client = TestDevices.connect(device);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        client.close();
        assertTrue(tookMillis >= 480, "the CONNACK waited for the connection's turn: " + tookMillis + " ms");
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS"})
    void telemetryOverTheRate_isShaped_thenRefused_andTheSdkResendsIt(IotHubClientProtocol protocol, LocalHub hub)
            throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("tier-d2c"));
        DeviceClient client = new DeviceClient(TestDevices.connectionString(device), protocol);
        List<IotHubConnectionStatus> statuses = new CopyOnWriteArrayList<>();
        client.setConnectionStatusChangeCallback(ctx -> statuses.add(ctx.getNewStatus()), null);
        client.open(true);
        try {
            // Shaping: 150 sends at once leave the next one half a second to wait; it is acknowledged then.
            long start = System.nanoTime();
            hub.throttles().admit(Operation.DEVICE_TO_CLOUD_SENDS, 150);
            assertEquals(IotHubStatusCode.OK, send(client, "shaped"));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMillis >= 480, "the acknowledgement waited for the message's turn: " + tookMillis + " ms");
            assertTrue(!statuses.contains(IotHubConnectionStatus.DISCONNECTED_RETRYING), "shaping drops nothing");

            // Over the backlog: 429002. IoT Hub closes an MQTT connection (MQTT has no negative acknowledgement),
            // and rejects the AMQP transfer as com.microsoft:device-container-throttled; the SDK sends the message
            // again (after reconnecting, over MQTT) and it is accepted once the flood has passed.
            hub.throttles().saturate(Operation.DEVICE_TO_CLOUD_SENDS, 1500);
            assertEquals(IotHubStatusCode.OK, send(client, "refused, then resent"));
            if (protocol == IotHubClientProtocol.MQTT) {
                assertTrue(statuses.contains(IotHubConnectionStatus.DISCONNECTED_RETRYING),
                        "the hub closed the MQTT connection: " + statuses);
            }
        } finally {
            client.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"MQTT", "AMQPS"})
    void twinReadsAndUpdatesOverTheLimit_get429_sharedWithTheServiceSide(IotHubClientProtocol protocol, LocalHub hub)
            throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("tier-twin"));
        DeviceClient client = new DeviceClient(TestDevices.connectionString(device), protocol);
        client.open(true);
        try {
            client.subscribeToDesiredProperties((t, ctx) -> { }, null); // the SDK's precondition for getTwin
            TwinClient twins = new TwinClient(hub.hubConnectionString());

            hub.throttles().saturate(Operation.TWIN_READS, 1500);
            // The device's read: 429 in the twin answer, THROTTLED (retryable) for the application ...
            IotHubClientException read = assertThrows(IotHubClientException.class, () -> TestDevices.getTwin(client));
            assertEquals(IotHubStatusCode.THROTTLED, read.getStatusCode());
            assertTrue(read.isRetryable());
            // ... and the service's read of the same twin is refused too: both sides share the twin throttle.
            IotHubTooManyRequestsException service = assertThrows(IotHubTooManyRequestsException.class,
                    () -> twins.get(device.getDeviceId()));
            assertEquals(429001, service.getErrorCode());
            retryWhileThrottled(() -> TestDevices.getTwin(client));

            hub.throttles().saturate(Operation.TWIN_UPDATES, 1500);
            TwinCollection reported = new TwinCollection();
            reported.put("firmware", "1.0");
            IotHubClientException update = assertThrows(IotHubClientException.class,
                    () -> TestDevices.updateReported(client, reported, hub, device.getDeviceId()));
            assertEquals(IotHubStatusCode.THROTTLED, update.getStatusCode());
            retryWhileThrottled(() -> TestDevices.updateReported(client, reported, hub, device.getDeviceId()));
            assertEquals("1.0", twins.get(device.getDeviceId()).getReportedProperties().get("firmware"));
        } finally {
            client.close();
        }
    }

    @Test
    void cloudToDeviceSendsOverTheLimit_areRejectedAsThrottled_thenAccepted(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("tier-c2d"));
        MessagingClient messaging = new MessagingClient(hub.hubConnectionString(), IotHubServiceClientProtocol.AMQPS);
        messaging.open();
        try {
            hub.throttles().saturate(Operation.CLOUD_TO_DEVICE_SENDS, 1500);
            // Rejected as com.microsoft:device-container-throttled, which the service SDK reports as a plain
            // IotHubException with the condition and the hub's description (429001 ...).
            IotHubException e = assertThrows(IotHubException.class,
                    () -> messaging.send(device.getDeviceId(), new com.microsoft.azure.sdk.iot.service.messaging.Message("x")));
            assertTrue(e.getMessage().contains("429001"), e.getMessage());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (true) {
                try {
                    messaging.send(device.getDeviceId(), new com.microsoft.azure.sdk.iot.service.messaging.Message("y"));
                    break;
                } catch (IotHubException refused) {
                    assertTrue(refused.getMessage().contains("429001") && System.nanoTime() < deadline,
                            refused.getMessage());
                    Thread.sleep(250);
                }
            }
        } finally {
            messaging.close();
        }
    }

    private static IotHubStatusCode send(DeviceClient client, String body) throws Exception {
        CompletableFuture<IotHubStatusCode> sent = new CompletableFuture<>();
        client.sendEventAsync(new Message(body),
                (m, e, ctx) -> sent.complete(e == null ? IotHubStatusCode.OK : e.getStatusCode()), null);
        return sent.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private interface TwinCall {
        Object call() throws Exception;
    }

    /** What an application does with a retryable refusal: back off and try again. Returns the retries. */
    private static int retryWhileThrottled(TwinCall call) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        for (int retries = 0; ; retries++) {
            try {
                call.call();
                return retries;
            } catch (IotHubClientException e) {
                if (!e.isRetryable() || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(250);
            }
        }
    }
}
