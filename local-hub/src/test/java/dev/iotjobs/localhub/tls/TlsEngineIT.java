package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.auth.SasToken;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub's TLS engine: BoringSSL where Netty ships it, the JDK's otherwise, and both serve the REST API and
 * MQTT with the hub's certificate under full verification (a second hub on free ports).
 */
class TlsEngineIT {

    @Test
    void boringSsl_isTheEngineOnLinuxX8664() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
            assertEquals("BoringSSL", VertxTlsOptions.engineName(HubConfig.TlsEngine.AUTO), "netty-tcnative-boringssl-static should load here");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"auto", "jdk"})
    void eitherEngine_servesHttpsAndMqttWithTheHubCertificate(String engine, @TempDir Path dir) throws Exception {
        try (LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(dir).inMemory(true)
                .mqttPort(0).restPort(0).proxyPort(0).tlsEngine(HubConfig.TlsEngine.parse(engine)).build())) {
            if (engine.equals("jdk")) {
                assertEquals("JDK", hub.tlsEngineName());
            }
            SSLContext trust = TrustStores.trusting(hub.trustStore());
            // Straight to this hub's own port: never through a proxy that a shared test hub set for the JVM.
            HttpClient client = HttpClient.newBuilder().sslContext(trust).proxy(HttpClient.Builder.NO_PROXY).build();
            String token = SasToken.create(WellKnownKeys.HOST_NAME, WellKnownKeys.IOTHUBOWNER_KEY, "iothubowner",
                    Instant.now().getEpochSecond() + 600);
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                            URI.create("https://127.0.0.1:" + hub.restPort() + "/statistics/devices?api-version=2021-04-12"))
                    .header("Authorization", token).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            assertTrue(response.body().contains("totalDeviceCount"), response.body());

            try (SSLSocket socket = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", hub.mqttPort())) {
                SSLParameters params = socket.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS"); // the IP SAN must match, as for the device SDK
                socket.setSSLParameters(params);
                socket.startHandshake();
                assertTrue(socket.getSession().getProtocol().startsWith("TLSv1."), socket.getSession().getProtocol());
            }
        }
    }
}
