package dev.iotjobs.localhub.x509;

import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The checks IoT Hub applies to an X.509 device: thumbprints (registering a {@code selfSigned} device, matching
 * the certificate it presents) and the chain of a {@code certificateAuthority} device. Protocol-free, so the
 * registry and the authenticator use it without depending on the TLS adapter that receives certificates.
 * <p>
 * A {@code selfSigned} device is matched by the SHA-1 or SHA-256 thumbprint (hex of the digest of the DER
 * certificate) registered for it; a {@code certificateAuthority} device needs a certificate chaining to the hub's
 * development CA with {@code CN=<deviceId>}. Both must be within their validity period.
 */
public final class X509Checks {
    private X509Checks() {
    }

    /** Upper-case hex SHA-1 thumbprint, as IoT Hub and the portal show it. */
    public static String sha1Thumbprint(X509Certificate cert) {
        return thumbprint(cert, "SHA-1");
    }

    /** Upper-case hex SHA-256 thumbprint. */
    public static String sha256Thumbprint(X509Certificate cert) {
        return thumbprint(cert, "SHA-256");
    }

    /** True for a SHA-1 (40) or SHA-256 (64 hex digits) thumbprint, as IoT Hub accepts them. */
    public static boolean isThumbprint(String text) {
        return text != null && (text.length() == 40 || text.length() == 64)
                && text.chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    /** Whether the certificate's SHA-1 or SHA-256 thumbprint equals {@code thumbprint} (case-insensitive). */
    public static boolean matches(X509Certificate cert, String thumbprint) {
        if (!isThumbprint(thumbprint)) {
            return false;
        }
        String expected = thumbprint.toUpperCase(Locale.ROOT);
        return expected.equals(thumbprint.length() == 40 ? sha1Thumbprint(cert) : sha256Thumbprint(cert));
    }

    /**
     * Why {@code chain} does not prove {@code deviceId} under {@code ca} (each certificate signed by the next,
     * the last by the CA, all valid now, the first with {@code CN=<deviceId>}), or null when it does.
     */
    public static String caChainProblem(X509Certificate[] chain, X509Certificate ca, String deviceId) {
        try {
            for (X509Certificate c : chain) {
                c.checkValidity();
            }
            for (int i = 0; i + 1 < chain.length; i++) {
                chain[i].verify(chain[i + 1].getPublicKey());
            }
            X509Certificate last = chain[chain.length - 1];
            if (!last.equals(ca)) {
                last.verify(ca.getPublicKey());
            }
        } catch (GeneralSecurityException e) {
            return "the certificate is not issued by the hub's device CA or not valid now (" + e.getMessage() + ")";
        }
        String cn = commonName(chain[0]);
        if (!deviceId.equals(cn)) {
            return "the certificate's CN '" + cn + "' is not the device id";
        }
        return null;
    }

    private static String commonName(X509Certificate cert) {
        try {
            var rdns = new JcaX509CertificateHolder(cert).getSubject().getRDNs(BCStyle.CN);
            return rdns.length == 0 ? null : IETFUtils.valueToString(rdns[0].getFirst().getValue());
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    private static String thumbprint(X509Certificate cert, String algorithm) {
        try {
            return HexFormat.of().withUpperCase().formatHex(MessageDigest.getInstance(algorithm).digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
