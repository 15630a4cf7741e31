package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubDeviceMaximumQueueDepthExceededException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.ProxyOptions;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubUnauthorizedException;
import com.microsoft.azure.sdk.iot.service.messaging.AcknowledgementType;
import com.microsoft.azure.sdk.iot.service.messaging.FileUploadNotificationProcessorClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClientOptions;
import com.microsoft.azure.sdk.iot.service.messaging.DeliveryAcknowledgement;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackRecord;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackStatusCode;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.c2d.C2dAck;
import dev.iotjobs.localhub.c2d.C2dMessageState;
import dev.iotjobs.localhub.c2d.C2dSend;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cloud-to-device messages over AMQP end to end: the unmodified service {@code MessagingClient} sends on
 * {@code /messages/devicebound}, the unmodified DeviceClient over AMQPS and AMQPS_WS completes, abandons or rejects
 * them, and the unmodified {@code MessageFeedbackProcessorClient} reads the delivery feedback.
 */
@ExtendWith(LocalHubExtension.class)
class AmqpCloudToDeviceIT {

    @Test
    void sentByTheServiceReceivedByAmqpDevices_completeAbandonReject_andTheirFeedback(LocalHub hub) throws Exception {
        Map<String, FeedbackRecord> feedback = new ConcurrentHashMap<>();
        MessageFeedbackProcessorClient feedbackClient = new MessageFeedbackProcessorClient(hub.hubConnectionString(),
                IotHubServiceClientProtocol.AMQPS, batch -> {
                    batch.getRecords().forEach(r -> feedback.put(r.getOriginalMessageId(), r));
                    return AcknowledgementType.COMPLETE;
                });
        feedbackClient.start();
        MessagingClient messaging = new MessagingClient(hub.hubConnectionString(), IotHubServiceClientProtocol.AMQPS);
        messaging.open();
        try {
            for (IotHubClientProtocol protocol : new IotHubClientProtocol[]{IotHubClientProtocol.AMQPS, IotHubClientProtocol.AMQPS_WS}) {
                Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-c2d"));
                String id = device.getDeviceId();
                BlockingQueue<com.microsoft.azure.sdk.iot.device.Message> received = new LinkedBlockingQueue<>();
                Map<String, Integer> seen = new ConcurrentHashMap<>();
                DeviceClient client = AmqpDeviceIT.client(hub, TestDevices.connectionString(device), protocol);
                client.setMessageCallback((message, ctx) -> {
                    String mid = message.getMessageId();
                    int times = seen.merge(mid, 1, Integer::sum);
                    received.add(message);
                    if (mid.endsWith("-reject")) {
                        return times == 1 ? IotHubMessageResult.ABANDON : IotHubMessageResult.REJECT;
                    }
                    return IotHubMessageResult.COMPLETE;
                }, null);
                client.open(false);
                try {
                    Message first = new Message("hello " + protocol);
                    first.setMessageId(id + "-complete");
                    first.setCorrelationId("corr-1");
                    first.setDeliveryAcknowledgement(DeliveryAcknowledgement.Full);
                    first.getProperties().put("color", "light blue");
                    messaging.send(id, first);
                    com.microsoft.azure.sdk.iot.device.Message got = received.poll(30, TimeUnit.SECONDS);
                    assertNotNull(got, "the device receives the message over " + protocol);
                    assertEquals(id + "-complete", got.getMessageId());
                    assertEquals("corr-1", got.getCorrelationId());
                    assertEquals("light blue", got.getProperty("color"));
                    assertEquals("hello " + protocol, new String(got.getBytes(), StandardCharsets.UTF_8));

                    Message second = new Message("abandon, then reject");
                    second.setMessageId(id + "-reject");
                    second.setDeliveryAcknowledgement(DeliveryAcknowledgement.Full);
                    messaging.send(id, second);
                    assertNotNull(received.poll(30, TimeUnit.SECONDS), "first delivery");
                    assertNotNull(received.poll(30, TimeUnit.SECONDS), "abandoned: delivered again");
                    assertEquals(2, seen.get(id + "-reject"));
                    // The device's outcome travels after its callback returns: wait until the queue is empty.
                    long settled = System.currentTimeMillis() + 30_000;
                    while (hub.cloudToDevice().depth(id) > 0 && System.currentTimeMillis() < settled) {
                        Thread.sleep(20);
                    }
                    assertEquals(0, hub.cloudToDevice().depth(id), "completed and rejected messages leave the queue");
                } finally {
                    client.close();
                }
                // Feedback is batched (IoT Hub sends a smaller batch after an interval).
                long deadline = System.currentTimeMillis() + 60_000;
                while ((!feedback.containsKey(id + "-complete") || !feedback.containsKey(id + "-reject"))
                        && System.currentTimeMillis() < deadline) {
                    Thread.sleep(100);
                }
                FeedbackRecord completed = feedback.get(id + "-complete");
                assertNotNull(completed, "feedback for the completed message");
                assertEquals(FeedbackStatusCode.success, completed.getStatusCode());
                assertEquals(id, completed.getDeviceId());
                FeedbackRecord rejected = feedback.get(id + "-reject");
                assertNotNull(rejected, "feedback for the rejected message");
                assertEquals(FeedbackStatusCode.rejected, rejected.getStatusCode());
            }
        } finally {
            messaging.close();
            feedbackClient.stop();
        }
    }

    /**
     * A connection that ends while its device holds a message unsettled (the application's callback has not
     * returned, so the SDK has settled nothing) gives the message back: Enqueued again at once, without counting a
     * delivery (long before the 60 s lock could expire), and handed to the device's next connection.
     */
    @Test
    void aConnectionEndingWithAnUnsettledMessage_givesItBackUncounted_toTheNextConnection(LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-c2d-close"));
        String id = device.getDeviceId();
        BlockingQueue<String> arrivals = new LinkedBlockingQueue<>();
        CountDownLatch release = new CountDownLatch(1);
        DeviceClient first = AmqpDeviceIT.client(hub, TestDevices.connectionString(device), IotHubClientProtocol.AMQPS);
        first.setMessageCallback((message, ctx) -> {
            arrivals.add(message.getMessageId());
            boolean interrupted = false;
            while (release.getCount() > 0) { // busy until the test says so, even when the SDK's close interrupts
                try {
                    release.await(60, TimeUnit.SECONDS);
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return IotHubMessageResult.COMPLETE;
        }, null);
        first.open(false);
        Thread closer = new Thread(first::close, "close-first-client");
        try {
            hub.cloudToDevice().send(new C2dSend(id, "unsettled".getBytes(StandardCharsets.UTF_8), Map.of(),
                    id + "-unsettled", null, null, null, null, C2dAck.NONE, null));
            assertEquals(id + "-unsettled", arrivals.poll(30, TimeUnit.SECONDS), "the first connection receives it");
            assertEquals("Invisible", hub.cloudToDevice().list(id).get(0).state());

            closer.start(); // the application closes its client while its callback still holds the message
            long deadline = System.currentTimeMillis() + 30_000;
            while (!"Enqueued".equals(hub.cloudToDevice().list(id).get(0).state()) && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            C2dMessageState back = hub.cloudToDevice().list(id).get(0);
            assertEquals("Enqueued", back.state(), "given back when the connection ended");
            assertEquals(0, back.deliveryCount(), "a lost connection is not an abandon: no delivery counted");
        } finally {
            release.countDown();
            if (closer.getState() == Thread.State.NEW) {
                closer.start();
            }
            closer.join(60_000);
        }

        DeviceClient second = AmqpDeviceIT.client(hub, TestDevices.connectionString(device), IotHubClientProtocol.AMQPS);
        second.setMessageCallback((message, ctx) -> {
            arrivals.add(message.getMessageId());
            return IotHubMessageResult.COMPLETE;
        }, null);
        second.open(false);
        try {
            assertEquals(id + "-unsettled", arrivals.poll(30, TimeUnit.SECONDS), "the next connection receives it");
            AmqpCloudToDeviceLockIT.awaitEmpty(hub, id);
        } finally {
            second.close();
        }
    }

    @Test
    void sendRefusals_unknownDevice_fullQueue_expiredMessage(LocalHub hub) throws Exception {
        MessagingClient messaging = new MessagingClient(hub.hubConnectionString(), IotHubServiceClientProtocol.AMQPS);
        messaging.open();
        try {
            assertThrows(IotHubNotFoundException.class,
                    () -> messaging.send(TestDevices.uniqueId("amqp-c2d-nobody"), new Message("x")));

            Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-c2d-full"));
            for (int i = 0; i < 50; i++) {
                messaging.send(device.getDeviceId(), new Message("m" + i));
            }
            assertThrows(IotHubDeviceMaximumQueueDepthExceededException.class,
                    () -> messaging.send(device.getDeviceId(), new Message("one too many")));

            Device other = TestDevices.register(hub, TestDevices.uniqueId("amqp-c2d-ttl"));
            Message expired = new Message("too late");
            expired.setExpiryTimeUtc(new Date(System.currentTimeMillis() - 60_000));
            IotHubException e = assertThrows(IotHubException.class, () -> messaging.send(other.getDeviceId(), expired));
            assertTrue(String.valueOf(e.getMessage()).contains("expir"), e.toString());
            assertEquals(0, hub.cloudToDevice().depth(other.getDeviceId()), "nothing queued");
        } finally {
            messaging.close();
        }
    }

    @Test
    void serviceOverWebSockets_fileNotificationLink_andAPolicyWithoutServiceConnectIsRefused(LocalHub hub) throws Exception {
        MessagingClientOptions.MessagingClientOptionsBuilder options = MessagingClientOptions.builder();
        if (hub.restPort() != HubConfig.DEFAULT_REST_PORT && hub.proxyPort() > 0) {
            options.proxyOptions(new ProxyOptions(new Proxy(Proxy.Type.HTTP,
                    new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.proxyPort()))));
        }
        MessagingClient overWebSockets = new MessagingClient(hub.hubConnectionString(),
                IotHubServiceClientProtocol.AMQPS_WS, options.build());
        overWebSockets.open();
        try {
            Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-c2d-ws"));
            overWebSockets.send(device.getDeviceId(), new Message("over a WebSocket"));
            assertEquals(1, hub.cloudToDevice().depth(device.getDeviceId()));
        } finally {
            overWebSockets.close();
        }

        FileUploadNotificationProcessorClient notifications = new FileUploadNotificationProcessorClient(
                hub.hubConnectionString(), IotHubServiceClientProtocol.AMQPS, n -> AcknowledgementType.COMPLETE);
        notifications.start();
        try {
            assertTrue(notifications.isRunning(), "the file-upload notification link is open");
        } finally {
            notifications.stop();
        }

        MessagingClient registryOnly = new MessagingClient("HostName=" + WellKnownKeys.HOST_NAME
                + ";SharedAccessKeyName=registryRead;SharedAccessKey=" + WellKnownKeys.REGISTRY_READ_KEY,
                IotHubServiceClientProtocol.AMQPS);
        try {
            assertThrows(IotHubUnauthorizedException.class, registryOnly::open);
        } finally {
            registryOnly.close();
        }
    }
}
