package dev.iotjobs.localhub.console;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.messaging.AcknowledgementType;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackRecord;
import com.microsoft.azure.sdk.iot.service.messaging.FeedbackStatusCode;
import com.microsoft.azure.sdk.iot.service.messaging.IotHubServiceClientProtocol;
import com.microsoft.azure.sdk.iot.service.messaging.MessageFeedbackProcessorClient;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device page's cloud-to-device card: the queue as the hub holds it, send with properties and a feedback mode,
 * purge, and the feedback the hub produced (Purged, Success, Rejected) with whether a feedback receiver got it.
 */
@ExtendWith(LocalHubExtension.class)
class ConsoleCloudToDeviceIT {
    private static final Duration SEEN = Duration.ofSeconds(20);
    /** Feedback is batched: a smaller batch goes out after the hub's feedback interval (15 s). */
    private static final Duration BATCHED = Duration.ofSeconds(60);
    private static Browser browser;
    private static String console;

    @BeforeAll
    static void start(LocalHub hub) throws Exception {
        browser = Browser.start();
        console = hub.startConsole(0);
    }

    @AfterAll
    static void stop(LocalHub hub) throws Exception {
        hub.stopConsole();
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    void sendsAMessageThatTheDeviceReceives_showsTheQueue_purgesIt_andShowsTheFeedback(LocalHub hub) throws Exception {
        String id = "console-c2d-" + UUID.randomUUID().toString().substring(0, 8);
        Device device = new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id));
        browser.open(console + "#/device/" + id);
        browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));
        browser.waitUntil(SEEN, () -> browser.text("c2d-feedback-none").startsWith("No feedback"),
                () -> browser.text("c2d-feedback"));

        // Two messages asking for full feedback, for an offline device: the card shows them queued.
        browser.type("c2d-ack", "full");
        browser.type("c2d-body", "first");
        browser.type("c2d-properties", "{\"color\": \"blue\"}");
        browser.click("c2d-send");
        browser.waitUntil(SEEN, () -> browser.text("c2d-result").startsWith("Queued"), () -> browser.text("c2d-result"));
        String first = queuedId();
        browser.type("c2d-body", "second");
        browser.click("c2d-send");
        browser.waitUntil(SEEN, () -> !queuedId().equals(first), () -> browser.text("c2d-result"));
        String second = queuedId();
        browser.waitUntil(SEEN, () -> browser.text("c2d-depth").startsWith("2 message"), () -> browser.text("c2d-queue"));
        assertEquals(2, hub.cloudToDevice().depth(id));

        // Purge empties it, and each purged message that asked for negative feedback has a Purged record.
        browser.click("c2d-purge");
        browser.waitUntil(SEEN, () -> browser.text("c2d-result").startsWith("Purged 2"), () -> browser.text("c2d-result"));
        browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));
        for (String purged : new String[]{first, second}) {
            browser.waitUntil(SEEN, () -> feedbackRow(purged).contains("Purged"), () -> browser.text("c2d-feedback"));
        }

        // The device receives (and completes) only what is sent afterwards; the card shows its Success record.
        LinkedBlockingQueue<Message> received = new LinkedBlockingQueue<>();
        DeviceClient client = new DeviceClient("HostName=127.0.0.1;DeviceId=" + id + ";SharedAccessKey="
                + device.getPrimaryKey(), IotHubClientProtocol.MQTT);
        client.setMessageCallback((m, ctx) -> {
            received.add(m);
            return IotHubMessageResult.COMPLETE;
        }, null);
        client.open(false);
        String third;
        try {
            browser.type("c2d-body", "third");
            browser.type("c2d-properties", "{\"color\": \"green\"}");
            browser.click("c2d-send");
            Message m = received.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "the device received the console's message");
            assertEquals("third", new String(m.getBytes(), StandardCharsets.UTF_8));
            assertEquals("green", m.getProperty("color"));
            third = m.getMessageId();
            browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));
            browser.waitUntil(SEEN, () -> feedbackRow(third).contains("Success"), () -> browser.text("c2d-feedback"));
        } finally {
            client.close();
        }
        assertTrue(browser.text("c2d-feedback").indexOf(third) < browser.text("c2d-feedback").indexOf(first),
                "newest first: " + browser.text("c2d-feedback"));

        // A feedback receiver (the service SDK's) gets the records; the card then says they were received.
        Map<String, FeedbackRecord> got = new ConcurrentHashMap<>();
        MessageFeedbackProcessorClient receiver = new MessageFeedbackProcessorClient(hub.hubConnectionString(),
                IotHubServiceClientProtocol.AMQPS, batch -> {
                    batch.getRecords().forEach(r -> got.put(r.getOriginalMessageId(), r));
                    return AcknowledgementType.COMPLETE;
                });
        receiver.start();
        try {
            for (String each : new String[]{first, second, third}) {
                browser.waitUntil(BATCHED, () -> feedbackRow(each).contains("received and completed"),
                        () -> browser.text("c2d-feedback"));
            }
        } finally {
            receiver.stop();
        }
        assertEquals(FeedbackStatusCode.success, got.get(third).getStatusCode());
        // The Java service SDK has no Purged status (its enum stops at rejected): the record is there all the same.
        assertNotNull(got.get(first), "the receiver got the Purged record too: " + got.keySet());
        assertEquals(id, got.get(third).getDeviceId());
        browser.screenshotOf("c2d-form", "console-c2d");
    }

    @Test
    void aMessageTheDeviceRejectsOverAmqp_showsItsRejectedRecord(LocalHub hub) throws Exception {
        String id = "console-c2d-" + UUID.randomUUID().toString().substring(0, 8);
        Device device = new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id));
        LinkedBlockingQueue<Message> received = new LinkedBlockingQueue<>();
        DeviceClient client = new DeviceClient("HostName=127.0.0.1;DeviceId=" + id + ";SharedAccessKey="
                + device.getPrimaryKey(), IotHubClientProtocol.AMQPS);
        client.setMessageCallback((m, ctx) -> {
            received.add(m);
            return IotHubMessageResult.REJECT;
        }, null);
        client.open(false);
        try {
            browser.open(console + "#/device/" + id);
            browser.waitUntil(SEEN, () -> browser.text("c2d-feedback-none").startsWith("No feedback"),
                    () -> browser.text("c2d-feedback"));
            browser.type("c2d-ack", "negative");
            browser.type("c2d-body", "not for me");
            browser.click("c2d-send");
            Message m = received.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "the device received the console's message");
            browser.waitUntil(SEEN, () -> feedbackRow(m.getMessageId()).contains("Rejected"),
                    () -> browser.text("c2d-feedback"));
            browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));
            assertEquals(1, browser.findAll("[data-testid='c2d-feedback'] tr[data-feedback]").size(),
                    "one record: " + browser.text("c2d-feedback"));
        } finally {
            client.close();
        }
    }

    /** The message id of the last "Queued as ..." answer. */
    private static String queuedId() {
        return browser.text("c2d-result").replaceFirst("^Queued as ", "").trim();
    }

    /** The text of the feedback row of a message ("" while there is none). */
    private static String feedbackRow(String messageId) {
        return browser.textOf("[data-testid='c2d-feedback'] tr[data-feedback='" + messageId + "']");
    }
}
