package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * The local hub's development certificate authority: a self-signed CA and a server certificate for the
 * loopback addresses, generated on first start and kept in the data directory (layout in
 * {@link DataDirectory}). Clients trust the hub by trusting {@code certs/truststore.p12} (or
 * {@code certs/ca.pem}); nothing here is ever committed, every key is generated on the user's machine.
 * <p>
 * RSA 2048 keys are used because every TLS stack accepts them, including the Azure device SDK which
 * forces TLSv1.2 with the JDK's default cipher suites. Only JDK crypto providers are used (BouncyCastle
 * builds the X.509 structures only, in {@link DevCertificateIssuer}), so nothing is registered globally.
 * <p>
 * Start-up cost: reading a PKCS#12 file derives keys from its password for its MAC and each encrypted part (the
 * JDK writes 10,000 rounds per derivation; the files written here have one, see {@link DevCertificateIssuer}, and
 * those of older data directories are read as they are). So a start with valid files decrypts only what it needs
 * (the server key once, never the CA key) and hands the server key to the TLS listeners as a
 * {@link KeyManagerFactory} instead of letting each of them load {@code server.p12} again.
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

    /** A server certificate this close to expiry is renewed at start, so a running hub never hits expiry. */
    private static final Duration RENEW_BEFORE = Duration.ofDays(30);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dataDir;
    private final X509Certificate caCertificate;
    private final KeyStore serverKeyStore;
    private final KeyManagerFactory serverKeys;

    private DevCertificateAuthority(Path dataDir, X509Certificate caCertificate, KeyStore serverKeyStore,
                                    KeyManagerFactory serverKeys) {
        this.dataDir = dataDir;
        this.caCertificate = caCertificate;
        this.serverKeyStore = serverKeyStore;
        this.serverKeys = serverKeys;
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
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Cannot set up the development certificates in " + certsDir, e);
        }
    }

    private static DevCertificateAuthority loadOrCreateLocked(Path dataDir, Instant now)
            throws IOException, GeneralSecurityException {
        KeyStore caStore = loadIfUsable(DataDirectory.caKeyStore(dataDir));
        X509Certificate ca = caStore == null ? null : certificate(caStore, CA_ALIAS);
        boolean caUsable = ca != null && caStore.isKeyEntry(CA_ALIAS) && validAt(ca, now.plus(RENEW_BEFORE));
        KeyStore server = caUsable ? loadIfUsable(DataDirectory.serverKeyStore(dataDir)) : null;
        KeyManagerFactory serverKeys = caUsable ? usableServerKeys(server, ca, now) : null;
        // The CA's private key is decrypted only to issue a server certificate; unreadable, it makes a new CA.
        PrivateKey caKey = null;
        if (caUsable && serverKeys == null) {
            caKey = privateKey(caStore, CA_ALIAS);
            caUsable = caKey != null;
        }
        // RSA key generation dominates a first start: the server's key pair is generated while the CA's is.
        FutureTask<KeyPair> serverPair = serverKeys == null ? newKeyPairInBackground() : null;
        if (!caUsable) {
            KeyPair caPair = newKeyPair();
            ca = DevCertificateIssuer.caCertificate(caPair, now);
            caKey = caPair.getPrivate();
            writeAtomically(DataDirectory.caKeyStore(dataDir),
                    DevCertificateIssuer.keyStore(CA_ALIAS, caKey, new X509Certificate[]{ca}, password()), OWNER_ONLY);
            // Everything issued by an old CA is worthless now.
            Files.deleteIfExists(DataDirectory.serverKeyStore(dataDir));
            Files.deleteIfExists(DataDirectory.trustStore(dataDir));
            Files.deleteIfExists(DataDirectory.caPem(dataDir));
        }
        if (!isSameCertificateFile(DataDirectory.caPem(dataDir), toPem(ca))) {
            writeAtomically(DataDirectory.caPem(dataDir), toPem(ca), WORLD_READABLE);
        }
        if (!trustStoreHolds(DataDirectory.trustStore(dataDir), ca)) {
            writeAtomically(DataDirectory.trustStore(dataDir), DevCertificateIssuer.trustStore(CA_ALIAS, ca, password()),
                    WORLD_READABLE);
        }
        if (serverKeys == null) {
            KeyPair pair = await(serverPair);
            X509Certificate serverCert = DevCertificateIssuer.serverCertificate(pair, ca, caKey, now);
            byte[] serverFile = DevCertificateIssuer.keyStore(SERVER_ALIAS, pair.getPrivate(),
                    new X509Certificate[]{serverCert, ca}, password());
            writeAtomically(DataDirectory.serverKeyStore(dataDir), serverFile, OWNER_ONLY);
            server = load(serverFile); // exactly what the file holds
            serverKeys = keyManagerFactory(server);
        }
        return new DevCertificateAuthority(dataDir, ca, server, serverKeys);
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

    /**
     * The server key and chain of {@link #serverKeyStore()}, decrypted once, for TLS listeners (the JDK's default
     * key manager algorithm, as a TLS library builds from a PKCS#12 file).
     */
    public KeyManagerFactory serverKeyManagerFactory() {
        return serverKeys;
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

    // ---- key pairs ----

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048, RANDOM);
        return generator.generateKeyPair();
    }

    /** Starts generating a key pair on a thread of its own (a daemon: an abandoned one never holds the JVM). */
    private static FutureTask<KeyPair> newKeyPairInBackground() {
        FutureTask<KeyPair> task = new FutureTask<>(DevCertificateAuthority::newKeyPair);
        Thread thread = new Thread(task, "local-hub-key-pair");
        thread.setDaemon(true);
        thread.start();
        return task;
    }

    private static KeyPair await(FutureTask<KeyPair> task) throws GeneralSecurityException {
        try {
            return task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GeneralSecurityException g) {
                throw g;
            }
            throw new IllegalStateException("Cannot generate a key pair: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while generating a key pair", e);
        }
    }

    // ---- loading and checking ----

    /** The key store in {@code file}, or null if it is missing or unreadable (then it gets regenerated). */
    private static KeyStore loadIfUsable(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return load(Files.readAllBytes(file));
        } catch (IOException | GeneralSecurityException e) {
            return null;
        }
    }

    private static KeyStore load(byte[] file) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(KEY_STORE_TYPE);
        store.load(new ByteArrayInputStream(file), password());
        return store;
    }

    /**
     * The key manager of a server store holding a key and a certificate issued by {@code ca} that is valid now and
     * beyond the renewal margin; null when the certificate must be issued again. The key is decrypted last, once.
     */
    private static KeyManagerFactory usableServerKeys(KeyStore server, X509Certificate ca, Instant now) {
        if (server == null) {
            return null;
        }
        try {
            if (!(server.getCertificate(SERVER_ALIAS) instanceof X509Certificate cert) || !server.isKeyEntry(SERVER_ALIAS)) {
                return null;
            }
            cert.verify(ca.getPublicKey()); // issued by the current CA
            if (!validAt(cert, now.plus(RENEW_BEFORE)) || !validAt(cert, now)) {
                return null;
            }
            KeyManagerFactory keys = keyManagerFactory(server);
            for (var manager : keys.getKeyManagers()) {
                if (manager instanceof X509KeyManager x509 && x509.getPrivateKey(SERVER_ALIAS) != null) {
                    return keys;
                }
            }
            return null;
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    private static KeyManagerFactory keyManagerFactory(KeyStore server) throws GeneralSecurityException {
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(server, password());
        return keys;
    }

    private static X509Certificate certificate(KeyStore store, String alias) {
        try {
            return store.getCertificate(alias) instanceof X509Certificate cert ? cert : null;
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    /** The private key under {@code alias}, or null when it is missing or cannot be decrypted. */
    private static PrivateKey privateKey(KeyStore store, String alias) {
        try {
            return store.getKey(alias, password()) instanceof PrivateKey key ? key : null;
        } catch (GeneralSecurityException e) {
            return null;
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
