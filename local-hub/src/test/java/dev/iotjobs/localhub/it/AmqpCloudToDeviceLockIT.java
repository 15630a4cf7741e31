package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.service.messaging.DeliveryAcknowledgement;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackStatusCode;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.Message;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClient;
import com.microsoft.azure.sdk.iot.service.messaging.MessagingClient;
import com.microsoft.azure.sdk.iot.service.messaging.AcknowledgementType;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.c2d.C2dMessageState;
import dev.iotjobs.localhub.junit.HubC2dLock;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cloud-to-device lock over AMQP, with a 2-second lock instead of IoT Hub's 60 s ({@link HubC2dLock}): a
 * message the unmodified DeviceClient holds unsettled (its callback has not returned) past the lock goes back to
 * the queue without counting a delivery and is handed out again on the same link, as IoT Hub's "Send
 * cloud-to-device messages from an IoT hub" describes (the lock timeout returns an Invisible message to Enqueued).
 * The device's late outcome for the first delivery (here a rejection, which would dead-letter the message) is
 * ignored: its lock is lost (IoT Hub answers 412002 DeviceMessageLockLost where it can answer, over HTTPS; the
 * Java device SDK settles its AMQP dispositions at once and never waits for an answer). Its completion of the new
 * delivery completes the message, once, with positive feedback. The connection is never disturbed.
 */
@ExtendWith(LocalHubExtension.class)
@HubC2dLock(millis = AmqpCloudToDeviceLockIT.LOCK_MILLIS)
class AmqpCloudToDeviceLockIT {
    static final long LOCK_MILLIS = 2_000;

    @ParameterizedTest
    @EnumSource(value = IotHubClientProtocol.class, names = {"AMQPS", "AMQPS_WS"})
    void aMessageHeldPastTheLock_isDeliveredAgainUncounted_andTheStaleCompletionIsIgnored(IotHubClientProtocol protocol,
                                                                                       LocalHub hub) throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("amqp-lock"));
        String id = device.getDeviceId();
        BlockingQueue<String> feedback = new LinkedBlockingQueue<>();
        MessageFeedbackProcessorClient feedbackClient = new MessageFeedbackProcessorClient(hub.hubConnectionString(),
                IotHubServiceClientProtocol.AMQPS, batch -> {
                    batch.getRecords().stream().filter(r -> id.equals(r.getDeviceId()))
                            .forEach(r -> feedback.add(r.getOriginalMessageId() + ":" + r.getStatusCode()));
                    return AcknowledgementType.COMPLETE;
                });
        MessagingClient messaging = new MessagingClient(hub.hubConnectionString(), IotHubServiceClientProtocol.AMQPS);
        BlockingQueue<String> arrivals = new LinkedBlockingQueue<>();
        CountDownLatch release = new CountDownLatch(1);
        List<String> statuses = new CopyOnWriteArrayList<>();
        DeviceClient client = AmqpDeviceIT.client(hub, TestDevices.connectionString(device), protocol);
        client.setConnectionStatusChangeCallback(ctx -> statuses.add(ctx.getNewStatus().toString()), null);
        client.setMessageCallback((message, ctx) -> {
            arrivals.add(message.getMessageId());
            if (message.getMessageId().endsWith("-held") && release.getCount() > 0) {
                try { // the application is busy with its first delivery: the SDK settles nothing meanwhile
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return IotHubMessageResult.REJECT; // too late: must not dead-letter the message
            }
            return IotHubMessageResult.COMPLETE;
        }, null);
        feedbackClient.start();
        messaging.open();
        client.open(false);
        try {
            Message held = new Message("held past its lock");
            held.setMessageId(id + "-held");
            held.setDeliveryAcknowledgement(DeliveryAcknowledgement.Full);
            messaging.send(id, held);
            assertEquals(id + "-held", arrivals.poll(30, TimeUnit.SECONDS), "the first delivery");
            assertEquals("Invisible", state(hub, id).state());

            // Wait for the lock to expire (and the hub's check, a quarter of the lock, to see it): the message went
            // back to the queue (and out again to the connected device), without counting a delivery.
            Thread.sleep(LOCK_MILLIS + LOCK_MILLIS / 2);
            assertEquals(0, state(hub, id).deliveryCount(), "a lock timeout is not an abandon: no delivery counted");

            // The application rejects the first delivery (too late: ignored), then gets the message again and
            // completes that delivery, which holds the lock.
            release.countDown();
            assertEquals(id + "-held", arrivals.poll(30, TimeUnit.SECONDS), "delivered again after the lock expired");
            awaitEmpty(hub, id);
            assertEquals(id + "-held:" + FeedbackStatusCode.success, feedback.poll(60, TimeUnit.SECONDS),
                    "completed once, with positive feedback (the stale rejection was not applied)");

            // The same connection goes on: the next message arrives once and is completed at once.
            arrivals.clear();
            Message next = new Message("next");
            next.setMessageId(id + "-next");
            messaging.send(id, next);
            assertEquals(id + "-next", arrivals.poll(30, TimeUnit.SECONDS), "the next message: " + arrivals);
            awaitEmpty(hub, id);
            assertEquals(List.of("CONNECTED"), statuses, "no reconnection: " + statuses);
            assertTrue(feedback.isEmpty(), "one feedback record for the held message: " + feedback);
        } finally {
            release.countDown();
            client.close();
            messaging.close();
            feedbackClient.stop();
        }
    }

    /** The device's only queued message. */
    private static C2dMessageState state(LocalHub hub, String deviceId) {
        List<C2dMessageState> queue = hub.cloudToDevice().list(deviceId);
        assertEquals(1, queue.size(), "one message queued: " + queue);
        return queue.get(0);
    }

    /** The device's outcome travels after its callback returns: wait until the queue is empty. */
    static void awaitEmpty(LocalHub hub, String deviceId) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (hub.cloudToDevice().depth(deviceId) > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, hub.cloudToDevice().depth(deviceId), "the message was completed");
    }
}
