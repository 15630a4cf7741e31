package dev.iotjobs.localhub.console;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.IotHubMessageResult;
import com.microsoft.azure.sdk.iot.device.Message;
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
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The device page's cloud-to-device card: the queue as the hub holds it, send with properties, purge. */
@ExtendWith(LocalHubExtension.class)
class ConsoleCloudToDeviceIT {
    private static final Duration SEEN = Duration.ofSeconds(20);
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
    void sendsAMessageThatTheDeviceReceives_showsTheQueue_andPurgesIt(LocalHub hub) throws Exception {
        String id = "console-c2d-" + UUID.randomUUID().toString().substring(0, 8);
        Device device = new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id));
        browser.open(console + "#/device/" + id);
        browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));

        // Two messages for an offline device: the card shows them queued.
        browser.type("c2d-body", "first");
        browser.type("c2d-properties", "{\"color\": \"blue\"}");
        browser.click("c2d-send");
        browser.waitUntil(SEEN, () -> browser.text("c2d-result").startsWith("Queued"), () -> browser.text("c2d-result"));
        browser.type("c2d-body", "second");
        browser.click("c2d-send");
        browser.waitUntil(SEEN, () -> browser.text("c2d-depth").startsWith("2 message"), () -> browser.text("c2d-queue"));
        assertEquals(2, hub.cloudToDevice().depth(id));

        // Purge empties it; the device then receives only what is sent afterwards.
        browser.click("c2d-purge");
        browser.waitUntil(SEEN, () -> browser.text("c2d-result").startsWith("Purged 2"), () -> browser.text("c2d-result"));
        browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));

        LinkedBlockingQueue<Message> received = new LinkedBlockingQueue<>();
        DeviceClient client = new DeviceClient("HostName=127.0.0.1;DeviceId=" + id + ";SharedAccessKey="
                + device.getPrimaryKey(), IotHubClientProtocol.MQTT);
        client.setMessageCallback((m, ctx) -> {
            received.add(m);
            return IotHubMessageResult.COMPLETE;
        }, null);
        client.open(false);
        try {
            browser.type("c2d-body", "third");
            browser.type("c2d-properties", "{\"color\": \"green\"}");
            browser.click("c2d-send");
            Message m = received.poll(20, TimeUnit.SECONDS);
            assertNotNull(m, "the device received the console's message");
            assertEquals("third", new String(m.getBytes(), StandardCharsets.UTF_8));
            assertEquals("green", m.getProperty("color"));
            browser.waitUntil(SEEN, () -> browser.text("c2d-depth").contains("empty"), () -> browser.text("c2d-queue"));
        } finally {
            client.close();
        }
    }
}
