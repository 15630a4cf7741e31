package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.tls.TrustStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fallback for machines where port 443 is privileged: the hub's REST API on any port, reached through
 * its HTTPS CONNECT proxy with full certificate checks (a second hub on free ports, next to the shared one).
 */
class ConnectProxyIT {

    @Test
    void connectProxy_tunnelsHttpsToTheRestApiWithCertificateChecks(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).alwaysProxy(true).build())) {
            HttpClient client = HttpClient.newBuilder()
                    .proxy(ProxySelector.of(new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.proxyPort())))
                    .sslContext(TrustStores.trusting(hub.trustStore()))
                    .build();
            String token = SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner",
                    Instant.now().getEpochSecond() + 600);
            // The URL names port 443, as the service SDK's always does; the tunnel leads to the real port.
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("https://127.0.0.1/statistics/devices?api-version=2021-04-12"))
                    .header("Authorization", token).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            JsonNode stats = Json.parse(response.body().getBytes(StandardCharsets.UTF_8));
            assertEquals(1, stats.get("totalDeviceCount").asInt(), "the default device");
        }
    }

    @Test
    void connectProxy_refusesPlainHttpRequests(@TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).alwaysProxy(true).build());
             Socket socket = new Socket(WellKnownKeys.HOST_NAME, hub.proxyPort())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /devices HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String status = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
            assertTrue(status.startsWith("HTTP/1.1 405"), status);
        }
    }
}
