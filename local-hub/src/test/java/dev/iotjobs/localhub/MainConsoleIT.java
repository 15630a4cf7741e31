package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The web console on the command line: on by default on 8080, --console-port, --no-console, its banner line. */
class MainConsoleIT {

    @Test
    void parse_consoleOnPort8080ByDefault_otherPortOrOff() {
        assertEquals(8080, Main.parse(new String[0]).consolePort());
        assertEquals(9090, Main.parse(new String[]{"--console-port", "9090"}).consolePort());
        assertEquals(HubConfig.CONSOLE_OFF, Main.parse(new String[]{"--no-console"}).consolePort());
        assertEquals(HubConfig.CONSOLE_OFF, HubConfig.builder().build().consolePort(), "embedded hubs have none unless asked");
    }

    @Test
    void banner_showsTheConsoleUrlAndWhatItActsWith(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).alwaysProxy(true).consolePort(0).build())) {
            String url = hub.consoleUrl();
            assertNotNull(url);
            assertTrue(url.matches("http://127\\.0\\.0\\.1:\\d+/"), url);
            String banner = Main.banner(hub, Duration.ofMillis(834));
            assertTrue(banner.contains("console  (HTTP):     " + url + "  (loopback only; acts with the iothubowner policy)"), banner);
            // HttpURLConnection for plain HTTP: java.net.http.HttpClient would fix the JVM's default SSL context
            // before the shared test hub sets the trust store.
            HttpURLConnection page = (HttpURLConnection) URI.create(url).toURL().openConnection(Proxy.NO_PROXY);
            assertEquals(200, page.getResponseCode());
            String body = new String(page.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(body.contains("local-hub console"), body);
            // The console reaches the REST API on whatever port it got (here not 443, as behind the CONNECT proxy).
            HttpURLConnection api = (HttpURLConnection) URI.create(url + "api/statistics/devices").toURL()
                    .openConnection(Proxy.NO_PROXY);
            api.setRequestProperty("X-Console-Request", "1");
            assertEquals(200, api.getResponseCode());
            String stats = new String(api.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(stats.contains("\"totalDeviceCount\":1"), stats);
        }
    }

    @Test
    void consolePortTaken_theHubStillStarts_andTheBannerSaysWhy(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
             LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                     .mqttPort(0).restPort(0).proxyPort(0).consolePort(taken.getLocalPort()).build())) {
            assertNull(hub.consoleUrl());
            String banner = Main.banner(hub, Duration.ofMillis(834));
            assertTrue(banner.contains("console:             not started: port " + taken.getLocalPort()), banner);
            assertTrue(banner.contains("--console-port <another port> or --no-console"), banner);
        }
    }
}
