package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line of the hub: options, defaults and clear errors for bad input (the banner: MainIT). */
class MainTest {

    @Test
    void parse_defaultsAreTheSdksPorts() {
        HubConfig c = Main.parse(new String[0]);
        assertEquals(8883, c.mqttPort());
        assertEquals(443, c.restPort());
        assertEquals(4443, c.proxyPort());
        assertEquals("127.0.0.1", c.bindHost());
        assertEquals(false, c.inMemory());
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
}
