package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubLimits;
import dev.iotjobs.localhub.config.WellKnownKeys;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The service endpoint has server-side deadlines. A connection that sends half a request's headers
 * (or nothing) is closed, a request whose body stops short gets 408 in IoT Hub's shape, and a slow client costs
 * nothing once its deadline passed. The deadlines are 1 s here; the client waits up to 15 s before calling the
 * connection held.
 */
class HttpDeadlinesIT {
    private static LocalHub hub;
    private static RawHttp http;

    @BeforeAll
    static void start() {
        hub = OwnHub.start(HubLimits.DEFAULTS.withHttpHeadersTimeout(Duration.ofSeconds(1))
                .withHttpBodyTimeout(Duration.ofSeconds(1)));
        http = new RawHttp(hub);
    }

    @AfterAll
    static void stop() {
        hub.close();
    }

    /** Reads until the hub closes the connection; fails if it is still open after 15 s. */
    private static byte[] readUntilClosed(SSLSocket socket) throws IOException {
        socket.setSoTimeout(15_000);
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                all.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the hub still holds the connection after 15 s", e);
        } catch (SSLException | SocketException e) {
            // closed without close_notify: closed all the same
        }
        return all.toByteArray();
    }

    @Test
    void halfAHeaderIsClosed() throws Exception {
        try (SSLSocket socket = http.open()) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /statistics/devices?" + RawHttp.API + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(0, readUntilClosed(socket).length, "closed without an answer");
        }
    }

    @Test
    void anIdleConnectionIsClosed() throws Exception {
        try (SSLSocket socket = http.open()) {
            assertEquals(0, readUntilClosed(socket).length);
        }
    }

    @Test
    void aBodyThatStopsShortIs408WithIotHubsBody() throws Exception {
        try (SSLSocket socket = http.open()) {
            OutputStream out = socket.getOutputStream();
            String id = HubDevices.newId("slow");
            out.write(("PUT /devices/" + id + "?" + RawHttp.API + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                    + RawHttp.ownerToken() + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"deviceId\"")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            RawHttp.Response r = RawHttp.read(new ByteArrayInputStream(readUntilClosed(socket)));
            assertEquals(408, r.status(), r.toString());
            assertEquals(408000, r.errorCode(), r.toString());
            assertEquals(404, http.send("GET", "/devices/" + id + "?" + RawHttp.API, null).status(), "nothing created");
        }
    }

    @Test
    void aKeepAliveConnectionServesRequestsAndIsClosedWhenIdle() throws Exception {
        try (SSLSocket socket = http.open()) {
            OutputStream out = socket.getOutputStream();
            for (int i = 0; i < 3; i++) {
                out.write(("GET /statistics/devices?" + RawHttp.API + " HTTP/1.1\r\nHost: " + WellKnownKeys.HOST_NAME
                        + "\r\nAuthorization: " + RawHttp.ownerToken() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread.sleep(400); // each pause is shorter than the deadline: the connection stays
            }
            String answers = new String(readUntilClosed(socket), StandardCharsets.ISO_8859_1);
            assertEquals(3, answers.split("HTTP/1.1 200 OK", -1).length - 1, answers);
            assertTrue(answers.contains("totalDeviceCount"));
        }
    }
}
