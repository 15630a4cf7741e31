package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;
import dev.iotjobs.localhub.tls.DeviceCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code local-hub issue-device-cert}: PKCS#12 files a device can use, self-signed or from the hub's CA. */
class DeviceCertCommandTest {

    private static KeyStore load(Path file) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray());
        }
        assertNotNull((PrivateKey) store.getKey(DeviceCertificates.ALIAS, WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray()));
        return store;
    }

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = DeviceCertCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void selfSigned_printsTheThumbprintsOfTheWrittenCertificate(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dev1.p12");
        String output = run("dev1", "--data", dir.resolve("hub").toString(), "--out", file.toString());
        X509Certificate cert = (X509Certificate) load(file).getCertificate(DeviceCertificates.ALIAS);
        assertTrue(output.contains(DeviceCertificates.sha1Thumbprint(cert)), output);
        assertTrue(output.contains(DeviceCertificates.sha256Thumbprint(cert)), output);
        assertTrue(output.contains("x509=true"), output);
        assertEquals(cert.getSubjectX500Principal(), cert.getIssuerX500Principal());
    }

    @Test
    void ca_writesACertificateTheHubsCaSignedForTheDevice(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("hub");
        Path file = dir.resolve("dev2.p12");
        run("dev2", "--ca", "--data", data.toString(), "--out", file.toString());
        Certificate[] chain = load(file).getCertificateChain(DeviceCertificates.ALIAS);
        X509Certificate ca = DevCertificateAuthority.loadOrCreate(data).caCertificate();
        X509Certificate[] x509 = DeviceCertificates.x509(chain);
        assertNull(DeviceCertificates.caChainProblem(x509, ca, "dev2"));
        assertNotNull(DeviceCertificates.caChainProblem(x509, ca, "dev3"), "the CN names the device");
    }

    @Test
    void missingDeviceIdIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, DeviceCertCommand.run(new String[]{"--ca"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("Usage: local-hub issue-device-cert"));
    }
}
