package dev.iotjobs.localhub.tls;

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

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Builds the development CA and server certificates of {@link DevCertificateAuthority} (BouncyCastle builds the
 * X.509 structures; keys and signatures come from the JDK's providers). A class of its own so that a start with
 * valid certificates in the data directory never loads BouncyCastle.
 */
final class DevCertificateIssuer {
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration SERVER_VALIDITY = Duration.ofDays(730);
    /** Back-dating covers small clock differences between the hub and its clients. */
    private static final Duration BACKDATE = Duration.ofHours(1);
    private static final String SIGNATURE_ALGORITHM = "SHA256withRSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private DevCertificateIssuer() {
    }

    static X509Certificate caCertificate(KeyPair pair, Instant now) throws GeneralSecurityException {
        try {
            X500Name name = new X500Name("CN=" + DevCertificateAuthority.CA_COMMON_NAME + ",O=local-iothub");
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, serialNumber(),
                    Date.from(now.minus(BACKDATE)), Date.from(now.plus(CA_VALIDITY)), name, pair.getPublic());
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            builder.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
            return sign(builder, pair.getPrivate());
        } catch (CertIOException | OperatorCreationException e) {
            throw new GeneralSecurityException("Cannot build the CA certificate: " + e.getMessage(), e);
        }
    }

    static X509Certificate serverCertificate(KeyPair pair, X509Certificate ca, PrivateKey caKey, Instant now)
            throws GeneralSecurityException {
        try {
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
        } catch (CertIOException | OperatorCreationException e) {
            throw new GeneralSecurityException("Cannot build the server certificate: " + e.getMessage(), e);
        }
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
}
