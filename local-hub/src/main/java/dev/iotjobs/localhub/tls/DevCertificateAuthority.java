package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.Set;

/**
 * The local hub's development certificate authority: a self-signed CA and a server certificate for the
 * loopback addresses, generated on first start and kept in the data directory (layout in
 * {@link DataDirectory}). Clients trust the hub by trusting {@code certs/truststore.p12} (or
 * {@code certs/ca.pem}); nothing here is ever committed, every key is generated on the user's machine.
 * <p>
 * RSA 2048 keys are used because every TLS stack accepts them, including the Azure device SDK which
 * forces TLSv1.2 with the JDK's default cipher suites. Only JDK crypto providers are used (BouncyCastle
 * builds the X.509 structures only), so nothing is registered globally.
 * <p>
 * Protocol-free on purpose: Vert.x wiring lives in {@link VertxTlsOptions}.
 */
public final class DevCertificateAuthority {
    public static final String CA_COMMON_NAME = "local-iothub Development CA";
    /** The private key stores are protected by file permissions; the password is well known by design. */
    public static final String KEY_STORE_PASSWORD = WellKnownKeys.TRUST_STORE_PASSWORD;
    public static final String KEY_STORE_TYPE = "PKCS12";
    static final String CA_ALIAS = "ca";
    static final String SERVER_ALIAS = "server";

    private static final Duration CA_VALIDITY = Duration.ofDays(3650);
    private static final Duration SERVER_VALIDITY = Duration.ofDays(730);
    /** Back-dating covers small clock differences between the hub and its clients. */
    private static final Duration BACKDATE = Duration.ofHours(1);
    /** A server certificate this close to expiry is renewed at start, so a running hub never hits expiry. */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final String SIGNATURE_ALGORITHM = "SHA256withRSA";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dataDir;
    private final X509Certificate caCertificate;
    private final KeyStore serverKeyStore;

    private DevCertificateAuthority(Path dataDir, X509Certificate caCertificate, KeyStore serverKeyStore) {
        this.dataDir = dataDir;
        this.caCertificate = caCertificate;
        this.serverKeyStore = serverKeyStore;
    }

    /**
     * Loads the CA and server certificate from {@code dataDir}, creating whatever is missing: a new CA
     * (and everything under it) when there is no usable CA, a new server certificate when it is missing,
     * expiring, or not issued by the current CA. The public files are rewritten if missing.
     */
    public static DevCertificateAuthority loadOrCreate(Path dataDir) {
        return loadOrCreate(dataDir, Instant.now());
    }

    /** {@link #loadOrCreate(Path)} as if the clock showed {@code now} (tests of expiry). */
    static DevCertificateAuthority loadOrCreate(Path dataDir, Instant now) {
        Path certsDir = DataDirectory.certsDir(dataDir);
        try {
            Files.createDirectories(certsDir);
            // Serialises concurrent starts on the same data directory (two processes, or two threads),
            // so they do not generate two different CAs.
            synchronized (DevCertificateAuthority.class) {
                try (FileChannel lockChannel = FileChannel.open(certsDir.resolve(".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = lockChannel.lock()) {
                    return loadOrCreateLocked(dataDir, now);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot set up the development certificates in " + certsDir, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("Cannot set up the development certificates in " + certsDir, e);
        }
    }

    private static DevCertificateAuthority loadOrCreateLocked(Path dataDir, Instant now)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        KeyStore caStore = loadIfUsable(DataDirectory.caKeyStore(dataDir));
        X509Certificate ca = caStore == null ? null : (X509Certificate) caStore.getCertificate(CA_ALIAS);
        PrivateKey caKey = caStore == null ? null : (PrivateKey) caStore.getKey(CA_ALIAS, password());
        if (ca == null || caKey == null || !validAt(ca, now.plus(RENEW_BEFORE))) {
            KeyPair caPair = newKeyPair();
            ca = createCaCertificate(caPair, now);
            caKey = caPair.getPrivate();
            caStore = newKeyStore();
            caStore.setKeyEntry(CA_ALIAS, caKey, password(), new Certificate[]{ca});
            writeAtomically(DataDirectory.caKeyStore(dataDir), toBytes(caStore), OWNER_ONLY);
            // Everything issued by an old CA is worthless now.
            Files.deleteIfExists(DataDirectory.serverKeyStore(dataDir));
            Files.deleteIfExists(DataDirectory.trustStore(dataDir));
            Files.deleteIfExists(DataDirectory.caPem(dataDir));
        }
        if (!isSameCertificateFile(DataDirectory.caPem(dataDir), toPem(ca))) {
            writeAtomically(DataDirectory.caPem(dataDir), toPem(ca), WORLD_READABLE);
        }
        if (!trustStoreHolds(DataDirectory.trustStore(dataDir), ca)) {
            KeyStore trust = newKeyStore();
            trust.setCertificateEntry(CA_ALIAS, ca);
            writeAtomically(DataDirectory.trustStore(dataDir), toBytes(trust), WORLD_READABLE);
        }
        KeyStore server = loadIfUsable(DataDirectory.serverKeyStore(dataDir));
        if (!isUsableServerStore(server, ca, now)) {
            KeyPair serverPair = newKeyPair();
            X509Certificate serverCert = createServerCertificate(serverPair, ca, caKey, now);
            server = newKeyStore();
            server.setKeyEntry(SERVER_ALIAS, serverPair.getPrivate(), password(), new Certificate[]{serverCert, ca});
            writeAtomically(DataDirectory.serverKeyStore(dataDir), toBytes(server), OWNER_ONLY);
        }
        return new DevCertificateAuthority(dataDir, ca, server);
    }

    public Path caPemPath() {
        return DataDirectory.caPem(dataDir);
    }

    public Path trustStorePath() {
        return DataDirectory.trustStore(dataDir);
    }

    public Path serverKeyStorePath() {
        return DataDirectory.serverKeyStore(dataDir);
    }

    /** Password of every PKCS#12 file in {@code certs/} (the trust store's is {@link WellKnownKeys#TRUST_STORE_PASSWORD}). */
    public String keyStorePassword() {
        return KEY_STORE_PASSWORD;
    }

    /** The server key store (alias {@code server}: key, server certificate, CA certificate). */
    public KeyStore serverKeyStore() {
        return serverKeyStore;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    public X509Certificate serverCertificate() {
        try {
            return (X509Certificate) serverKeyStore.getCertificate(SERVER_ALIAS);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 fingerprint of the CA certificate, hex with colons (as browsers and openssl show it). */
    public String caFingerprintSha256() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(caCertificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- certificate generation ----

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048, RANDOM);
        return generator.generateKeyPair();
    }

    private static X509Certificate createCaCertificate(KeyPair pair, Instant now)
            throws GeneralSecurityException, CertIOException, OperatorCreationException {
        X500Name name = new X500Name("CN=" + CA_COMMON_NAME + ",O=local-iothub");
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serialNumber(),
                Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_VALIDITY)), name, pair.getPublic());
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        builder.addExtension(Extension.keyUsage, true,
                new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
        builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
        return sign(builder, pair.getPrivate());
    }

    private static X509Certificate createServerCertificate(KeyPair pair, X509Certificate ca, PrivateKey caKey, Instant now)
            throws GeneralSecurityException, CertIOException, OperatorCreationException {
        X500Name subject = new X500Name("CN=localhost,O=local-iothub");
        Instant notAfter = now.plus(SERVER_VALIDITY);
        if (notAfter.isAfter(ca.getNotAfter().toInstant())) {
            notAfter = ca.getNotAfter().toInstant(); // never outlive the issuer
        }
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca, serialNumber(),
                Date.from(now.minus(BACKDATE)), Date.from(notAfter), subject, pair.getPublic());
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true,
                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        // Clients verify the host against the subjectAltName (the CN is ignored by modern clients).
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "::1")}));
        builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
        builder.addExtension(Extension.authorityKeyIdentifier, false, utils.createAuthorityKeyIdentifier(ca));
        return sign(builder, caKey);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws GeneralSecurityException, OperatorCreationException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder(SIGNATURE_ALGORITHM).build(key)));
    }

    /** Positive, random, under 20 bytes (RFC 5280); randomness keeps re-generated certificates distinct. */
    private static BigInteger serialNumber() {
        return new BigInteger(127, RANDOM).setBit(126);
    }

    // ---- loading and checking ----

    /** The key store in {@code file}, or null if it is missing or unreadable (then it gets regenerated). */
    private static KeyStore loadIfUsable(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance(KEY_STORE_TYPE);
            store.load(in, password());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            return null;
        }
    }

    private static boolean isUsableServerStore(KeyStore server, X509Certificate ca, Instant now) {
        if (server == null) {
            return false;
        }
        try {
            if (!(server.getCertificate(SERVER_ALIAS) instanceof X509Certificate cert)
                    || server.getKey(SERVER_ALIAS, password()) == null) {
                return false;
            }
            cert.verify(ca.getPublicKey()); // issued by the current CA
            return validAt(cert, now.plus(RENEW_BEFORE)) && validAt(cert, now);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean trustStoreHolds(Path file, X509Certificate ca) {
        KeyStore trust = loadIfUsable(file);
        try {
            return trust != null && trust.size() == 1 && trust.isCertificateEntry(CA_ALIAS)
                    && ca.equals(trust.getCertificate(CA_ALIAS));
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean isSameCertificateFile(Path file, byte[] expected) throws IOException {
        return Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), expected);
    }

    private static boolean validAt(X509Certificate cert, Instant instant) {
        return !instant.isBefore(cert.getNotBefore().toInstant()) && instant.isBefore(cert.getNotAfter().toInstant());
    }

    // ---- files ----

    private static KeyStore newKeyStore() throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance(KEY_STORE_TYPE);
        store.load(null, null);
        return store;
    }

    private static byte[] toBytes(KeyStore store) throws GeneralSecurityException, IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        store.store(out, password());
        return out.toByteArray();
    }

    static byte[] toPem(X509Certificate cert) throws GeneralSecurityException {
        String base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(cert.getEncoded());
        return ("-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Writes via a temporary file in the same directory and a rename, so a crash never leaves a
     * truncated key store behind. The temporary file gets its final permissions before any byte is
     * written, so a private key is never readable by others, not even briefly.
     */
    private static void writeAtomically(Path target, byte[] content, Set<PosixFilePermission> permissions)
            throws IOException {
        Path dir = target.getParent();
        Path temp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp"); // 0600 on POSIX
        try {
            Files.write(temp, content);
            if (permissions != OWNER_ONLY && isPosix(dir)) {
                Files.setPosixFilePermissions(temp, permissions);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static boolean isPosix(Path dir) {
        return dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static char[] password() {
        return KEY_STORE_PASSWORD.toCharArray();
    }
}
