package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;
import org.bouncycastle.asn1.pkcs.Pfx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.util.Set;
import javax.net.ssl.X509KeyManager;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevCertificateAuthorityTest {

    @Test
    void writesTheDocumentedFiles(@TempDir Path dir) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(dir);
        assertEquals(DataDirectory.caPem(dir), ca.caPemPath());
        assertEquals(DataDirectory.trustStore(dir), ca.trustStorePath());
        assertEquals(DataDirectory.serverKeyStore(dir), ca.serverKeyStorePath());
        for (Path p : List.of(DataDirectory.caPem(dir), DataDirectory.caKeyStore(dir),
                DataDirectory.serverKeyStore(dir), DataDirectory.trustStore(dir))) {
            assertTrue(Files.isRegularFile(p), p + " exists");
        }
        assertTrue(Files.readString(ca.caPemPath()).startsWith("-----BEGIN CERTIFICATE-----\n"));
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            for (Path key : List.of(DataDirectory.caKeyStore(dir), DataDirectory.serverKeyStore(dir))) {
                assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                        Files.getPosixFilePermissions(key), key + " is owner-only");
            }
        }
        try (var files = Files.list(DataDirectory.certsDir(dir))) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary file left");
        }
        // The trust store holds exactly the CA certificate, as a trusted entry, and no key.
        KeyStore trust = loadTrustStore(dir);
        assertEquals(1, trust.size());
        String alias = Collections.list(trust.aliases()).get(0);
        assertTrue(trust.isCertificateEntry(alias));
        assertEquals(ca.caCertificate(), trust.getCertificate(alias));
    }

    @Test
    void certificatesHaveTheRightShape(@TempDir Path dir) throws Exception {
        DevCertificateAuthority ca = DevCertificateAuthority.loadOrCreate(dir);
        X509Certificate caCert = ca.caCertificate();
        X509Certificate server = ca.serverCertificate();

        assertTrue(caCert.getSubjectX500Principal().getName().contains("CN=local-iothub Development CA"));
        assertEquals(caCert.getSubjectX500Principal(), caCert.getIssuerX500Principal());
        caCert.verify(caCert.getPublicKey());
        assertTrue(caCert.getBasicConstraints() >= 0, "CA:true");
        assertTrue(caCert.getKeyUsage()[5], "keyCertSign");
        assertTrue(caCert.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(3640))));

        server.verify(caCert.getPublicKey());
        assertEquals(caCert.getSubjectX500Principal(), server.getIssuerX500Principal());
        assertEquals(-1, server.getBasicConstraints(), "CA:false");
        assertTrue(server.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.1"), "serverAuth");
        assertEquals("RSA", server.getPublicKey().getAlgorithm());
        Instant notAfter = server.getNotAfter().toInstant();
        assertTrue(notAfter.isAfter(Instant.now().plus(Duration.ofDays(700))));
        assertTrue(notAfter.isBefore(Instant.now().plus(Duration.ofDays(800))));

        List<List<?>> sans = List.copyOf(server.getSubjectAlternativeNames());
        assertTrue(sans.contains(List.of(7, "127.0.0.1")), sans::toString);
        assertTrue(sans.contains(List.of(2, "localhost")), sans::toString);
        assertTrue(sans.contains(List.of(7, "0:0:0:0:0:0:0:1")), sans::toString);

        // server.p12 carries the chain: server certificate, then the CA.
        var chain = ca.serverKeyStore().getCertificateChain("server");
        assertEquals(2, chain.length);
        assertEquals(server, chain[0]);
        assertEquals(caCert, chain[1]);
    }

    @Test
    void secondStartReusesTheCaAndServerCertificate(@TempDir Path dir) throws Exception {
        DevCertificateAuthority first = DevCertificateAuthority.loadOrCreate(dir);
        byte[] pem = Files.readAllBytes(first.caPemPath());
        DevCertificateAuthority second = DevCertificateAuthority.loadOrCreate(dir);
        assertEquals(first.caFingerprintSha256(), second.caFingerprintSha256());
        assertEquals(first.serverCertificate(), second.serverCertificate());
        assertArrayEquals(pem, Files.readAllBytes(second.caPemPath()));
    }

    @Test
    void missingServerCertificateIsReissuedUnderTheSameCa(@TempDir Path dir) throws Exception {
        DevCertificateAuthority first = DevCertificateAuthority.loadOrCreate(dir);
        Files.delete(first.serverKeyStorePath());
        Files.delete(first.trustStorePath());
        DevCertificateAuthority second = DevCertificateAuthority.loadOrCreate(dir);
        assertEquals(first.caFingerprintSha256(), second.caFingerprintSha256());
        assertNotEquals(first.serverCertificate(), second.serverCertificate());
        second.serverCertificate().verify(first.caCertificate().getPublicKey());
        assertEquals(first.caCertificate(), loadTrustStore(dir).getCertificate("ca"));
    }

    @Test
    void expiringServerCertificateIsRenewedAndExpiredCaIsReplaced(@TempDir Path dir) throws Exception {
        Instant now = Instant.now();
        DevCertificateAuthority first = DevCertificateAuthority.loadOrCreate(dir, now);
        // 20 days before the server certificate expires: renewed under the same CA.
        DevCertificateAuthority renewed = DevCertificateAuthority.loadOrCreate(dir, now.plus(Duration.ofDays(710)));
        assertEquals(first.caFingerprintSha256(), renewed.caFingerprintSha256());
        assertNotEquals(first.serverCertificate(), renewed.serverCertificate());
        assertTrue(renewed.serverCertificate().getNotAfter().toInstant().isAfter(now.plus(Duration.ofDays(1400))));
        // Past the CA's end: a new CA, and the trust store and PEM follow it.
        DevCertificateAuthority replaced = DevCertificateAuthority.loadOrCreate(dir, now.plus(Duration.ofDays(3660)));
        assertNotEquals(first.caFingerprintSha256(), replaced.caFingerprintSha256());
        replaced.serverCertificate().verify(replaced.caCertificate().getPublicKey());
        assertEquals(replaced.caCertificate(), loadTrustStore(dir).getCertificate("ca"));
        assertArrayEquals(DevCertificateAuthority.toPem(replaced.caCertificate()), Files.readAllBytes(replaced.caPemPath()));
    }

    @Test
    void pkcs12FilesHaveOneRoundOfKeyDerivation_theirPasswordIsPublic(@TempDir Path dir) throws Exception {
        DevCertificateAuthority.loadOrCreate(dir);
        for (Path p : List.of(DataDirectory.caKeyStore(dir), DataDirectory.serverKeyStore(dir), DataDirectory.trustStore(dir))) {
            Pfx pfx = Pfx.getInstance(Files.readAllBytes(p));
            assertEquals(1, pfx.getMacData().getIterationCount().intValueExact(), p + " MAC rounds");
        }
    }

    @Test
    void dataDirectoryWrittenWithTheJdksDefaultsIsKeptAsItIs(@TempDir Path dir) throws Exception {
        DevCertificateAuthority first = DevCertificateAuthority.loadOrCreate(dir);
        // The files as an earlier hub wrote them: by the JDK, with its 10,000 rounds.
        char[] password = first.keyStorePassword().toCharArray();
        for (Path p : List.of(DataDirectory.caKeyStore(dir), DataDirectory.serverKeyStore(dir), DataDirectory.trustStore(dir))) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(p)) {
                store.load(in, password);
            }
            KeyStore rewritten = KeyStore.getInstance("PKCS12");
            rewritten.load(null, null);
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    rewritten.setKeyEntry(alias, store.getKey(alias, password), password, store.getCertificateChain(alias));
                } else {
                    rewritten.setCertificateEntry(alias, store.getCertificate(alias));
                }
            }
            try (var out = Files.newOutputStream(p)) {
                rewritten.store(out, password);
            }
        }
        byte[] serverFile = Files.readAllBytes(first.serverKeyStorePath());
        DevCertificateAuthority second = DevCertificateAuthority.loadOrCreate(dir);
        assertEquals(first.caFingerprintSha256(), second.caFingerprintSha256());
        assertEquals(first.serverCertificate(), second.serverCertificate());
        assertArrayEquals(serverFile, Files.readAllBytes(second.serverKeyStorePath()), "not rewritten");
        assertEquals(first.caCertificate(), loadTrustStore(dir).getCertificate("ca"));
    }

    @Test
    void serverKeyManagerHoldsTheServerKeyAndChain(@TempDir Path dir) throws Exception {
        DevCertificateAuthority created = DevCertificateAuthority.loadOrCreate(dir);
        DevCertificateAuthority loaded = DevCertificateAuthority.loadOrCreate(dir);
        for (DevCertificateAuthority ca : List.of(created, loaded)) {
            X509KeyManager keys = (X509KeyManager) ca.serverKeyManagerFactory().getKeyManagers()[0];
            assertArrayEquals(new X509Certificate[]{ca.serverCertificate(), ca.caCertificate()},
                    keys.getCertificateChain("server"));
            assertEquals(ca.serverKeyStore().getKey("server", ca.keyStorePassword().toCharArray()),
                    keys.getPrivateKey("server"));
        }
    }

    @Test
    void caKeyIsReadOnlyToIssueAServerCertificate_andAnUnreadableOneGivesANewCa(@TempDir Path dir) throws Exception {
        DevCertificateAuthority first = DevCertificateAuthority.loadOrCreate(dir);
        // ca.p12 whose key entry has another password than the store: its certificate reads, its key does not.
        char[] password = first.keyStorePassword().toCharArray();
        KeyStore original = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(DataDirectory.caKeyStore(dir))) {
            original.load(in, password);
        }
        KeyStore odd = KeyStore.getInstance("PKCS12");
        odd.load(null, null);
        odd.setKeyEntry("ca", original.getKey("ca", password), "another".toCharArray(), original.getCertificateChain("ca"));
        try (var out = Files.newOutputStream(DataDirectory.caKeyStore(dir))) {
            odd.store(out, password);
        }
        // A valid server certificate needs no CA key: same CA, same server certificate.
        DevCertificateAuthority second = DevCertificateAuthority.loadOrCreate(dir);
        assertEquals(first.caFingerprintSha256(), second.caFingerprintSha256());
        assertEquals(first.serverCertificate(), second.serverCertificate());
        // Issuing one does: the CA whose key cannot be read is replaced, and everything follows the new one.
        Files.delete(first.serverKeyStorePath());
        DevCertificateAuthority third = DevCertificateAuthority.loadOrCreate(dir);
        assertNotEquals(first.caFingerprintSha256(), third.caFingerprintSha256());
        third.serverCertificate().verify(third.caCertificate().getPublicKey());
        assertEquals(third.caCertificate(), loadTrustStore(dir).getCertificate("ca"));
    }

    // ---- helpers ----

    private static KeyStore loadTrustStore(Path dir) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(DataDirectory.trustStore(dir))) {
            trust.load(in, WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray());
        }
        return trust;
    }
}
