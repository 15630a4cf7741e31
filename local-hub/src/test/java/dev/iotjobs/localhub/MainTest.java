package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line of the hub: options, defaults, clear errors for bad input, and the start-up banner. */
class MainTest {

    @Test
    void banner_namesTheEndpointsTheTlsEngineAndTheConnectionStrings(@org.junit.jupiter.api.io.TempDir Path dir) {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).build())) {
            String banner = Main.banner(hub, Duration.ofMillis(834));
            assertTrue(banner.contains("devices  (MQTT/TLS): 127.0.0.1:" + hub.mqttPort()), banner);
            assertTrue(banner.contains("service  (HTTPS):    127.0.0.1:" + hub.restPort()), banner);
            assertTrue(banner.contains("TLS engine:          " + hub.tlsEngineName()), banner);
            assertTrue(banner.contains(hub.hubConnectionString()), banner);
            assertTrue(banner.contains("built-in endpoint:   127.0.0.1:" + hub.eventHubsPort()
                    + " (Event Hubs-compatible, AMQP; event hub 'local-hub', 4 partitions)"), banner);
            assertTrue(banner.contains(hub.eventHubsConnectionString()), banner);
            assertTrue(hub.eventHubsConnectionString().startsWith("Endpoint=sb://127.0.0.1:" + hub.eventHubsPort()
                    + "/;SharedAccessKeyName=service;SharedAccessKey="), hub.eventHubsConnectionString());
            assertTrue(hub.eventHubsConnectionString().endsWith(";EntityPath=local-hub;UseDevelopmentEmulator=true"));
            assertTrue(banner.endsWith("\nReady in 0.83 s. Ctrl-C stops the hub."), banner);
            assertTrue(Main.banner(hub, null).endsWith("\nReady. Ctrl-C stops the hub."), "start-up time unknown");
        }
    }

    @Test
    void parse_defaultsAreTheSdksPorts() {
        HubConfig c = Main.parse(new String[0]);
        assertEquals(8883, c.mqttPort());
        assertEquals(443, c.restPort());
        assertEquals(4443, c.proxyPort());
        assertEquals("127.0.0.1", c.bindHost());
        assertEquals(false, c.inMemory());
        assertEquals(5672, c.eventHubsPort());
        assertEquals(4, c.telemetry().partitions());
        assertEquals(Duration.ofDays(1), c.telemetry().retention());
    }

    @Test
    void parse_readsTheTelemetryOptions() {
        HubConfig c = Main.parse(new String[]{"--event-hubs-port", "5673", "--telemetry-partitions", "8",
                "--telemetry-retention", "12h", "--telemetry-max-mb", "64", "--consumer-group", "analytics",
                "--consumer-group", "alerts"});
        assertEquals(5673, c.eventHubsPort());
        assertEquals(8, c.telemetry().partitions());
        assertEquals(Duration.ofHours(12), c.telemetry().retention());
        assertEquals(64L << 20, c.telemetry().maxBytes());
        assertEquals(java.util.Set.of("analytics", "alerts"), c.telemetry().consumerGroups());
        assertEquals("--telemetry-partitions must be 1 to 32, not 33",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--telemetry-partitions", "33"})).getMessage());
        assertEquals("--telemetry-retention must be a positive number followed by d, h, m or s (e.g. 1d), not '1 week'",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--telemetry-retention", "1 week"})).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--consumer-group", "a/b"}))
                .getMessage().startsWith("Consumer group 'a/b' is not a valid name"));
    }

    @Test
    void parse_readsEveryOption() {
        HubConfig c = Main.parse(new String[]{"--data", "hubdir", "--in-memory", "--host", "127.0.0.2",
                "--mqtt-port", "9883", "--rest-port", "8443", "--proxy-port", "0"});
        assertEquals(Path.of("hubdir"), c.dataDirectory());
        assertTrue(c.inMemory());
        assertEquals("127.0.0.2", c.bindHost());
        assertEquals(9883, c.mqttPort());
        assertEquals(8443, c.restPort());
        assertEquals(0, c.proxyPort());
    }

    @Test
    void parse_readsTheTuningKnobs() {
        HubConfig c = Main.parse(new String[]{"--tls-engine", "jdk", "--max-active-jobs", "3",
                "--methods-in-flight", "800"});
        assertEquals(HubConfig.TlsEngine.JDK, c.tlsEngine());
        assertEquals(3, c.maxActiveJobs());
        assertEquals(800, c.methodsInFlight());
        HubConfig defaults = Main.parse(new String[0]);
        assertEquals(HubConfig.TlsEngine.AUTO, defaults.tlsEngine());
        assertEquals(10, defaults.maxActiveJobs());
        assertEquals(2000, defaults.methodsInFlight());
        assertEquals("--max-active-jobs must be a positive number, not '0'",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--max-active-jobs", "0"})).getMessage());
        assertEquals("TLS engine must be auto or jdk, not 'boring'",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--tls-engine", "boring"})).getMessage());
    }

    @Test
    void parse_helpReturnsNoConfiguration() {
        assertNull(Main.parse(new String[]{"--help"}));
    }

    @Test
    void parse_rejectsBadInputWithAClearMessage() {
        assertEquals("--mqtt-port must be a port number (0-65535), not 'x'",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--mqtt-port", "x"})).getMessage());
        assertEquals("--rest-port must be a port number (0-65535), not '70000'",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--rest-port", "70000"})).getMessage());
        assertEquals("--data needs a value",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--data"})).getMessage());
        assertEquals("Unknown option: --verbose",
                assertThrows(IllegalArgumentException.class, () -> Main.parse(new String[]{"--verbose"})).getMessage());
    }

    @Test
    void portInUse_theErrorNamesThePortAndTheWayOut(@org.junit.jupiter.api.io.TempDir Path dir) {
        try (LocalHub first = LocalHub.start(HubConfig.builder().dataDirectory(dir.resolve("a")).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).build())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalHub.start(HubConfig.builder()
                    .dataDirectory(dir.resolve("b")).inMemory(true).mqttPort(first.mqttPort()).restPort(0).proxyPort(0).build()));
            assertTrue(e.getMessage().startsWith("port " + first.mqttPort() + " on 127.0.0.1 (MQTT (devices)) cannot be bound"), e.getMessage());
            assertTrue(e.getMessage().contains("Another local hub (or another server) is probably running there"), e.getMessage());
            // The device SDK always dials 8883: a second hub on another MQTT port would not reach the samples.
            assertTrue(e.getMessage().contains("stop it first (Ctrl-C in its terminal)"), e.getMessage());
            assertFalse(e.getMessage().contains("--mqtt-port"), e.getMessage());
        }
    }

    @Test
    void clientJvmFlags_trustTheHubsCa_andAreWrittenToTheDataDirectory(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).build())) {
            assertTrue(hub.clientJvmFlags().contains("-Djavax.net.ssl.trustStore=" + hub.trustStore()), hub.clientJvmFlags().toString());
            assertEquals(hub.clientJvmFlags(), java.nio.file.Files.readAllLines(
                    dev.iotjobs.localhub.config.DataDirectory.clientJvmFlagsFile(dir)));
            String banner = Main.banner(hub, Duration.ofMillis(834));
            assertTrue(banner.contains(String.join(" ", hub.clientJvmFlags())), banner);
            assertTrue(!banner.contains("setcap"), "setcap breaks java (libjli.so): never suggest it\n" + banner);
        }
    }
}
