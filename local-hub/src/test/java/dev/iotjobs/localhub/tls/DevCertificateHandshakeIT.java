package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS handshakes with the development CA's server certificate, on servers bound to ephemeral loopback ports. */
class DevCertificateHandshakeIT {

    @Test
    void handshakeSucceedsWithOnlyTheTrustStoreAndHostnameVerification(@TempDir Path dir) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(dir);
        try (SSLServerSocket server = startJdkServer(ca)) {
            assertEquals("TLSv1.3", handshake(server.getLocalPort(), trustStoreOnly(dir), null));
            assertEquals("TLSv1.2", handshake(server.getLocalPort(), trustStoreOnly(dir), "TLSv1.2"));
        }
    }

    @Test
    void clientTrustingOnlyTheJdkCacertsIsRejected(@TempDir Path dir) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(dir);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init((KeyStore) null); // the JDK's cacerts
        SSLContext jdkDefault = SSLContext.getInstance("TLS");
        jdkDefault.init(null, tmf.getTrustManagers(), null);
        try (SSLServerSocket server = startJdkServer(ca)) {
            assertThrows(SSLHandshakeException.class, () -> handshake(server.getLocalPort(), jdkDefault, null));
        }
    }

    @Test
    void vertxServerWithTheKeyCertOptionsHandshakes(@TempDir Path dir) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(dir);
        Vertx vertx = Vertx.vertx();
        try {
            NetServer server = vertx.createNetServer(new NetServerOptions()
                            .setSsl(true)
                            .setKeyCertOptions(VertxTlsOptions.serverKeyCertOptions(ca)))
                    .connectHandler(socket -> socket.handler(socket::write));
            server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals("TLSv1.2", handshake(server.actualPort(), trustStoreOnly(dir), "TLSv1.2"));
            assertTrue(handshake(server.actualPort(), trustStoreOnly(dir), null).startsWith("TLSv1."));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    // ---- helpers ----

    private static KeyStore loadTrustStore(Path dir) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(DataDirectory.trustStore(dir))) {
            trust.load(in, WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray());
        }
        return trust;
    }

    /** An SSLContext built from nothing but certs/truststore.p12, the way a client of the hub would. */
    private static SSLContext trustStoreOnly(Path dir) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(loadTrustStore(dir));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** A JDK TLS echo server on an ephemeral loopback port; serves connections until closed. */
    private static SSLServerSocket startJdkServer(DevCertificateAuthority ca) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ca.serverKeyStore(), ca.keyStorePassword().toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try (SSLSocket socket = (SSLSocket) server.accept()) {
                    socket.setSoTimeout(5000);
                    int b = socket.getInputStream().read();
                    socket.getOutputStream().write(b);
                    socket.getOutputStream().flush();
                } catch (Exception ignored) {
                    // handshake failures are expected in the negative test
                }
            }
        }, "tls-test-server");
        acceptor.setDaemon(true);
        acceptor.start();
        return server;
    }

    /** Connects to 127.0.0.1 with HTTPS host verification, echoes one byte, returns the protocol. */
    private static String handshake(int port, SSLContext context, String onlyProtocol) throws Exception {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            SSLParameters params = socket.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            if (onlyProtocol != null) {
                params.setProtocols(new String[]{onlyProtocol});
            }
            socket.setSSLParameters(params);
            socket.startHandshake();
            socket.getOutputStream().write(42);
            socket.getOutputStream().flush();
            assertEquals(42, socket.getInputStream().read());
            String protocol = socket.getSession().getProtocol();
            assertFalse(protocol.isEmpty());
            return protocol;
        }
    }
}
