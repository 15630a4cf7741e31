package dev.iotjobs.localhub.console;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the console lets through, without a browser: only its own pages' API calls (custom header, same
 * origin, its own Host), only the allow-listed REST calls, no keys in anything it serves, and every call
 * authorized by the hub itself.
 */
@ExtendWith(LocalHubExtension.class)
class ConsoleSecurityIT {
    private static HttpClient http;
    private static String console;

    /** The client is built after the shared hub set the JVM's trust store (building one fixes the default SSL context). */
    @BeforeAll
    static void start(LocalHub hub) {
        http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
        console = hub.startConsole(0);
    }

    @AfterAll
    static void stop(LocalHub hub) {
        hub.stopConsole();
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(console + path.substring(1)));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void pagesAndScripts_holdNoKey_andForbidFramesAndForeignScripts() throws Exception {
        List<String> keys = List.of(WellKnownKeys.IOTHUBOWNER_KEY, WellKnownKeys.SERVICE_KEY, WellKnownKeys.REGISTRY_READ_KEY,
                WellKnownKeys.REGISTRY_READ_WRITE_KEY, WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY, "SharedAccessSignature");
        for (String file : StaticFiles.FILES) {
            HttpResponse<String> r = get("/" + file);
            assertEquals(200, r.statusCode(), file);
            for (String key : keys) {
                assertFalse(r.body().contains(key), file + " contains " + key);
            }
            assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").contains("frame-ancestors 'none'"), file);
        }
        assertEquals(404, get("/../pom.xml").statusCode());
    }

    @Test
    void apiCall_withoutTheConsoleHeader_fromAnotherOrigin_orCrossSite_isRefused() throws Exception {
        assertEquals(200, get("/api/statistics/devices", "X-Console-Request", "1").statusCode());
        HttpResponse<String> noHeader = get("/api/statistics/devices");
        assertEquals(403, noHeader.statusCode());
        assertTrue(noHeader.body().contains("X-Console-Request"), noHeader.body());
        assertEquals(403, get("/api/statistics/devices", "X-Console-Request", "1", "Origin", "http://evil.example").statusCode());
        assertEquals(403, get("/api/statistics/devices", "X-Console-Request", "1", "Sec-Fetch-Site", "cross-site").statusCode());
        HttpResponse<String> sameOrigin = get("/api/statistics/devices", "X-Console-Request", "1",
                "Origin", console.substring(0, console.length() - 1), "Sec-Fetch-Site", "same-origin");
        assertEquals(200, sameOrigin.statusCode(), sameOrigin.body());
    }

    /** A page whose DNS name was rebound to 127.0.0.1 sends its own Host: refused (raw socket: Host is set by hand). */
    @Test
    void request_forAnotherHostName_isRefused() throws Exception {
        int port = URI.create(console).getPort();
        assertTrue(rawStatusLine(port, "evil.example:" + port).startsWith("HTTP/1.1 421"));
        assertTrue(rawStatusLine(port, "localhost:" + port).startsWith("HTTP/1.1 200"));
    }

    private static String rawStatusLine(int port, String host) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /api/statistics/devices HTTP/1.1\r\nHost: " + host + "\r\nX-Console-Request: 1\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
        }
    }

    /** Device identities carry keys: the console does not forward them, nor anything else off its list. */
    @Test
    void deviceIdentitiesAndUnlistedCalls_areNotForwarded() throws Exception {
        HttpResponse<String> identity = get("/api/devices/" + WellKnownKeys.DEFAULT_DEVICE_ID, "X-Console-Request", "1");
        assertEquals(404, identity.statusCode());
        assertFalse(identity.body().contains(WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY), identity.body());
        HttpResponse<String> delete = http.send(HttpRequest.newBuilder(URI.create(console + "api/devices/"
                + WellKnownKeys.DEFAULT_DEVICE_ID)).header("X-Console-Request", "1").DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, delete.statusCode());
        HttpResponse<String> twin = get("/api/twins/" + WellKnownKeys.DEFAULT_DEVICE_ID, "X-Console-Request", "1");
        assertEquals(200, twin.statusCode());
        assertFalse(twin.body().contains(WellKnownKeys.DEFAULT_DEVICE_PRIMARY_KEY), twin.body());
    }

    /** The console has no rights of its own: with a wrong policy key the hub refuses its calls (401). */
    @Test
    void consoleCalls_areAuthorizedByTheHub_aWrongPolicyKeyGets401(LocalHub hub) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            String wrongKey = Base64.getEncoder().encodeToString(new byte[32]);
            ConsoleServer other = ConsoleServer.start(vertx, new ConsoleServer.Target(WellKnownKeys.HOST_NAME,
                            hub.restPort(), hub.caCertificatePem(), WellKnownKeys.HOST_NAME, "iothubowner", wrongKey), 0)
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(other.url() + "api/statistics/devices"))
                    .header("X-Console-Request", "1").build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, r.statusCode(), r.body());
            assertEquals("IotHubUnauthorizedAccess", r.headers().firstValue("iothub-errorcode").orElse(""), r.body());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
