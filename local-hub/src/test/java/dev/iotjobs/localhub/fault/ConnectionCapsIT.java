package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttClient;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every listener holds a bounded number of connections: past its cap (HubLimits) a new connection is refused and
 * told why where its protocol allows (MQTT: CONNACK 3, server unavailable; HTTPS: 503 with IoT Hub's ServerBusy body;
 * CONNECT proxy and console: 503; Event Hubs AMQP: {@code amqp:resource-limit-exceeded}), and the hub keeps serving
 * the connections it holds, and new ones once some close. The proxy also closes a connection that sends no CONNECT
 * request in time (408). A hub of the test's own with tiny caps.
 */
class ConnectionCapsIT {
    private static LocalHub hub;
    private static HubDevices devices;
    private static final Vertx VERTX = Vertx.vertx();
    private static final String DEVICE = "/devices/" + WellKnownKeys.DEFAULT_DEVICE_ID + "?" + RawHttp.API;

    @BeforeAll
    static void start() throws Exception {
        hub = LocalHub.start(HubConfig.builder().dataDirectory(Files.createTempDirectory("local-iothub-caps"))
                .inMemory(true).mqttPort(0).restPort(0).alwaysProxy(true).proxyPort(0).consolePort(0)
                .limits(HubLimits.DEFAULTS.withMqttConnections(2).withHttpsConnections(3).withProxyConnections(2)
                        .withProxyConnectTimeout(Duration.ofSeconds(1)).withConsoleConnections(2)
                        .withEventHubsConnections(2))
                .build());
        devices = new HubDevices(hub);
    }

    @AfterAll
    static void stop() {
        VERTX.close();
        hub.stop();
    }

    @Test
    void mqtt_pastTheCap_isRefusedWithServerUnavailable_andAcceptedOnceAConnectionCloses() throws Exception {
        List<HubDevices.Registered> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(devices.register("cap"));
        }
        MqttClient first = connect(ids.get(0));
        MqttClient second = connect(ids.get(1));
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> connect(ids.get(2)));
        assertTrue(String.valueOf(refused.getCause()).contains("SERVER_UNAVAILABLE"), String.valueOf(refused.getCause()));
        assertTrue(second.isConnected() && first.isConnected(), "the admitted devices stay connected");
        HubDevices.await(first.disconnect());
        MqttClient third = null;
        for (int attempt = 0; attempt < 100 && third == null; attempt++) { // the hub sees the close a moment later
            try {
                third = connect(ids.get(2));
            } catch (ExecutionException e) {
                Thread.sleep(100);
            }
        }
        assertNotNull(third, "a device connects once a connection has closed");
        HubDevices.await(third.disconnect());
        HubDevices.await(second.disconnect());
    }

    private static MqttClient connect(HubDevices.Registered d) throws Exception {
        return HubDevices.await(devices.connect(VERTX, d.id(), d.username(), d.token()));
    }

    @Test
    void https_pastTheCap_isAnswered503ServerBusy_andServesAgainOnceAConnectionCloses() throws Exception {
        RawHttp http = devices.http();
        List<SSLSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                SSLSocket socket = http.open();
                held.add(socket);
                // One keep-alive request answered: the hub has counted this connection.
                String status = exchangeKeepAlive(socket.getOutputStream(), socket.getInputStream(),
                        "GET " + DEVICE + " HTTP/1.1\r\nHost: x\r\nAuthorization: " + RawHttp.ownerToken()
                                + "\r\n\r\n");
                assertTrue(status.startsWith("HTTP/1.1 200"), status);
            }
            RawHttp.Response refused = http.send("GET", DEVICE, null);
            assertEquals(503, refused.status(), refused.toString());
            assertEquals(503005, refused.errorCode(), refused.toString());
            assertTrue(refused.body().contains("retry later"), refused.body());
        } finally {
            for (SSLSocket s : held) {
                s.close();
            }
        }
        RawHttp.Response served = null;
        for (int attempt = 0; attempt < 100 && (served == null || served.status() != 200); attempt++) {
            if (served != null) {
                Thread.sleep(100);
            }
            served = http.send("GET", DEVICE, null);
        }
        assertEquals(200, served.status(), served.toString());
    }

    /** Sends a request on a kept-alive connection; returns the status line (the rest is left unread). */
    private static String exchangeKeepAlive(OutputStream out, InputStream in, String request) throws IOException {
        out.write(request.getBytes(StandardCharsets.UTF_8));
        out.flush();
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1)).readLine();
    }

    @Test
    void connectProxy_closesASilentConnectionWith408_andRefusesPastTheCapWith503() throws Exception {
        try (Socket silent = proxySocket()) {
            String answer = readAll(silent.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
        }
        String connect = "CONNECT 127.0.0.1:" + hub.restPort() + " HTTP/1.1\r\nHost: 127.0.0.1:" + hub.restPort() + "\r\n\r\n";
        assertThirdIsAnswered503(hub.proxyPort(), connect);
        String status = null;
        for (int attempt = 0; attempt < 100 && (status == null || !status.startsWith("HTTP/1.1 200")); attempt++) {
            if (status != null) {
                Thread.sleep(100);
            }
            try (Socket tunnel = proxySocket()) {
                status = exchangeKeepAlive(tunnel.getOutputStream(), tunnel.getInputStream(), connect);
            }
        }
        assertTrue(status.startsWith("HTTP/1.1 200"), "a tunnel opens once others closed: " + status);
    }

    private static Socket proxySocket() throws IOException {
        return socketTo(hub.proxyPort());
    }

    private static Socket socketTo(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(15_000);
        return socket;
    }

    private static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void console_pastTheCap_isAnswered503() throws Exception {
        URI console = URI.create(hub.consoleUrl());
        String get = "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + console.getPort() + "\r\n\r\n";
        assertThirdIsAnswered503(console.getPort(), get);
    }

    /**
     * With two connections to {@code port} held open (each answered 200 to {@code request}), a third is answered
     * 503 "retry later" and closed: the listener's cap in these tests is 2.
     */
    private static void assertThirdIsAnswered503(int port, String request) throws IOException {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                Socket s = socketTo(port);
                held.add(s);
                String status = exchangeKeepAlive(s.getOutputStream(), s.getInputStream(), request);
                assertTrue(status.startsWith("HTTP/1.1 200"), status);
            }
            try (Socket third = socketTo(port)) {
                third.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                String answer = readAll(third.getInputStream());
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.contains("retry later"), answer);
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void eventHubs_pastTheCap_isRefusedWithResourceLimitExceeded() throws Exception {
        List<RawAmqp> open = new ArrayList<>();
        try {
            ErrorCondition refused = null;
            for (int i = 0; i < 3 && refused == null; i++) {
                RawAmqp amqp = new RawAmqp(hub.eventHubsPort(), false);
                open.add(amqp);
                refused = amqp.closed.getNow(null);
                if (refused == null && i == 2) {
                    refused = amqp.closed.get(20, TimeUnit.SECONDS);
                }
            }
            assertNotNull(refused, "the third connection is refused");
            assertEquals("amqp:resource-limit-exceeded", refused.getCondition().toString());
            assertTrue(refused.getDescription().contains("retry later"), refused.getDescription());
            assertTrue(open.get(0).closed.getNow(null) == null, "the admitted connections stay open");
        } finally {
            open.forEach(RawAmqp::close);
        }
    }
}
