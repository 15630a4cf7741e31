package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line's hub (on free ports): its start-up banner, the error for a port in use, its client JVM options. */
class MainIT {

    @Test
    void banner_namesTheEndpointsTheTlsEngineAndTheConnectionStrings(@TempDir Path dir) {
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
    void portInUse_theErrorNamesThePortAndTheWayOut(@TempDir Path dir) {
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
    void clientJvmFlags_trustTheHubsCa_andAreWrittenToTheDataDirectory(@TempDir Path dir)
            throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).build())) {
            assertTrue(hub.clientJvmFlags().contains("-Djavax.net.ssl.trustStore=" + hub.trustStore()), hub.clientJvmFlags().toString());
            assertEquals(hub.clientJvmFlags(), Files.readAllLines(DataDirectory.clientJvmFlagsFile(dir)));
            String banner = Main.banner(hub, Duration.ofMillis(834));
            assertTrue(banner.contains(String.join(" ", hub.clientJvmFlags())), banner);
            assertTrue(!banner.contains("setcap"), "setcap breaks java (libjli.so): never suggest it\n" + banner);
        }
    }
}
