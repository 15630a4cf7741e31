package dev.iotjobs.localhub.tls;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.x509.X509Checks;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import javax.net.ssl.X509TrustManager;

/**
 * X.509 device certificates: making test certificates without OpenSSL ({@code local-hub issue-device-cert}), and
 * what the TLS layer needs to receive them. The checks the hub applies to a presented certificate are the core's
 * ({@link X509Checks}).
 * <p>
 * A {@code selfSigned} device is matched by the SHA-1 or SHA-256 thumbprint (hex of the digest of the DER
 * certificate) registered for it; a {@code certificateAuthority} device needs a certificate chaining to the hub's
 * development CA with {@code CN=<deviceId>}. Both must be within their validity period.
 */
public final class DeviceCertificates {
    /** The alias of the key entry in an issued PKCS#12 file. */
    public static final String ALIAS = "device";
    private static final Duration VALIDITY = Duration.ofDays(365);
    private static final SecureRandom RANDOM = new SecureRandom();

    private DeviceCertificates() {
    }

    /** A device key and certificate (with the CA certificate after it when CA-signed). */
    public record Issued(PrivateKey key, X509Certificate[] chain) {
        public X509Certificate certificate() {
            return chain[0];
        }

        /** PKCS#12 with the key entry {@link #ALIAS}, protected by {@code password}. */
        public byte[] pkcs12(char[] password) throws GeneralSecurityException, IOException {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry(ALIAS, key, password, chain);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            store.store(out, password);
            return out.toByteArray();
        }
    }

    /** A self-signed certificate with {@code CN=<deviceId>}, for a {@code selfSigned} device. */
    public static Issued selfSigned(String deviceId) {
        try {
            KeyPair pair = newKeyPair();
            X500Name name = deviceName(deviceId);
            X509v3CertificateBuilder b = builder(name, name, pair);
            return new Issued(pair.getPrivate(), new X509Certificate[]{sign(b, pair.getPrivate())});
        } catch (Exception e) {
            throw new IllegalStateException("Cannot create a certificate for " + deviceId + ": " + e.getMessage(), e);
        }
    }

    /** A certificate with {@code CN=<deviceId>} signed by the hub's development CA in {@code dataDir}. */
    public static Issued signedByDevCa(Path dataDir, String deviceId) {
        try {
            KeyStore caStore = KeyStore.getInstance(DevCertificateAuthority.KEY_STORE_TYPE);
            try (InputStream in = Files.newInputStream(DataDirectory.caKeyStore(dataDir))) {
                caStore.load(in, DevCertificateAuthority.KEY_STORE_PASSWORD.toCharArray());
            }
            X509Certificate ca = (X509Certificate) caStore.getCertificate(DevCertificateAuthority.CA_ALIAS);
            PrivateKey caKey = (PrivateKey) caStore.getKey(DevCertificateAuthority.CA_ALIAS,
                    DevCertificateAuthority.KEY_STORE_PASSWORD.toCharArray());
            KeyPair pair = newKeyPair();
            X509v3CertificateBuilder b = builder(new JcaX509CertificateHolder(ca).getSubject(),
                    deviceName(deviceId), pair);
            return new Issued(pair.getPrivate(), new X509Certificate[]{sign(b, caKey), ca});
        } catch (Exception e) {
            throw new IllegalStateException("Cannot issue a certificate for " + deviceId + " from the CA in "
                    + DataDirectory.certsDir(dataDir) + ": " + e.getMessage(), e);
        }
    }

    /** Upper-case hex SHA-1 thumbprint, as IoT Hub and the portal show it. */
    public static String sha1Thumbprint(X509Certificate cert) {
        return X509Checks.sha1Thumbprint(cert);
    }

    /** Upper-case hex SHA-256 thumbprint. */
    public static String sha256Thumbprint(X509Certificate cert) {
        return X509Checks.sha256Thumbprint(cert);
    }

    /** See {@link X509Checks#caChainProblem}. */
    public static String caChainProblem(X509Certificate[] chain, X509Certificate ca, String deviceId) {
        return X509Checks.caChainProblem(chain, ca, deviceId);
    }

    private static X500Name deviceName(String deviceId) {
        return new org.bouncycastle.asn1.x500.X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build();
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048, RANDOM);
        return generator.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair pair) throws Exception {
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).setBit(126),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(VALIDITY)), subject, pair.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth));
        return b;
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(key)));
    }

    /** Accepts any client certificate at the TLS layer: the device endpoint checks it against the registry. */
    public static X509TrustManager acceptAnyClientCertificate() {
        return new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
                // checked by the device endpoint (thumbprint or CA chain), after the handshake
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                throw new CertificateException("not a client trust manager");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
    }

    /** For callers holding certificates as {@link Certificate}s (SSLSession). */
    public static X509Certificate[] x509(Certificate[] certificates) {
        if (certificates == null || certificates.length == 0) {
            return null;
        }
        X509Certificate[] out = new X509Certificate[certificates.length];
        for (int i = 0; i < certificates.length; i++) {
            if (!(certificates[i] instanceof X509Certificate x)) {
                return null;
            }
            out[i] = x;
        }
        return out;
    }
}
