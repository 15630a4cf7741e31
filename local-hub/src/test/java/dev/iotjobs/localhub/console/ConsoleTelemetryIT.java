package dev.iotjobs.localhub.console;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Telemetry in the console: devices send over MQTT with the unmodified device SDK; the device page's Telemetry card
 * and the Telemetry page show the messages (body, properties, system properties), the page's filter narrows them to
 * one device.
 */
@ExtendWith(LocalHubExtension.class)
class ConsoleTelemetryIT {
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

    private static DeviceClient connect(LocalHub hub, String id) throws Exception {
        Device device = new RegistryClient(hub.hubConnectionString()).addDevice(new Device(id));
        DeviceClient client = new DeviceClient("HostName=127.0.0.1;DeviceId=" + id + ";SharedAccessKey="
                + device.getPrimaryKey(), IotHubClientProtocol.MQTT);
        client.open(false);
        return client;
    }

    private static void send(DeviceClient client, String body, String building) throws Exception {
        Message m = new Message(body);
        m.setContentType("application/json");
        m.setMessageId(UUID.randomUUID().toString());
        m.setProperty("building", building);
        client.sendEvent(m);
    }

    @Test
    void showsTelemetryLive_onTheDevicePageAndTheTelemetryPage_withADeviceFilter(LocalHub hub) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        String thermostat = "thermostat-" + suffix;
        String doorLock = "door-lock-" + suffix;
        DeviceClient a = connect(hub, thermostat);
        DeviceClient b = connect(hub, doorLock);
        try {
            // The device page: its card shows what it sends, as it arrives.
            browser.open(console + "#/device/" + thermostat);
            browser.waitUntil(SEEN, () -> browser.text("telemetry-messages").contains("No telemetry"),
                    () -> browser.text("telemetry-card"));
            send(a, "{\"temperature\": 21.5}", "43");
            send(a, "{\"temperature\": 22.0}", "43");
            browser.waitUntil(SEEN, () -> browser.text("telemetry-messages").contains("{\"temperature\": 22.0}")
                    && browser.text("telemetry-messages").contains("{\"temperature\": 21.5}"),
                    () -> browser.text("telemetry-card"));
            String card = browser.text("telemetry-card");
            assertTrue(card.contains("building = 43"), card);
            assertTrue(card.contains("content-type = application/json"), card);
            assertTrue(card.contains("messages/s over the last minute (2 messages)"), card);
            browser.screenshot("console-device-telemetry");

            // The Telemetry page: every device's messages, then one device's.
            send(b, "{\"locked\": true}", "7");
            browser.open(console + "#/telemetry");
            browser.waitUntil(SEEN, () -> browser.text("telemetry-messages").contains("{\"locked\": true}")
                    && browser.text("telemetry-messages").contains("{\"temperature\": 22.0}"),
                    () -> browser.text("telemetry-messages"));
            browser.type("telemetry-filter", doorLock);
            browser.click("telemetry-apply");
            browser.waitUntil(SEEN, () -> browser.text("telemetry-messages").contains("{\"locked\": true}")
                    && !browser.text("telemetry-messages").contains("temperature"),
                    () -> browser.text("telemetry-messages"));
            // New messages keep coming in under the filter, and only the filtered device's.
            send(a, "{\"temperature\": 23.0}", "43");
            send(b, "{\"locked\": false}", "7");
            browser.waitUntil(SEEN, () -> browser.text("telemetry-messages").contains("{\"locked\": false}"),
                    () -> browser.text("telemetry-messages"));
            assertFalse(browser.text("telemetry-messages").contains("temperature"), browser.text("telemetry-messages"));
            browser.screenshot("console-telemetry");

            // Every device again.
            browser.click("telemetry-clear");
            browser.waitUntil(SEEN, () -> browser.text("telemetry-messages").contains("{\"temperature\": 23.0}"),
                    () -> browser.text("telemetry-messages"));
        } finally {
            a.close();
            b.close();
        }
    }
}
