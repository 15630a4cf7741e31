package dev.iotjobs.localhub.tls;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBMPString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
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
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS12PfxPduBuilder;
import org.bouncycastle.pkcs.PKCS12SafeBag;
import org.bouncycastle.pkcs.PKCS12SafeBagBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS12SafeBagBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCS12MacCalculatorBuilder;
import org.bouncycastle.pkcs.jcajce.JcePKCSPBEOutputEncryptorBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * Builds the development CA and server certificates of {@link DevCertificateAuthority} (BouncyCastle builds the
 * X.509 structures; keys and signatures come from the JDK's providers) and the PKCS#12 files that hold them. A
 * class of its own so that a start with valid certificates in the data directory never loads BouncyCastle.
 * <p>
 * The PKCS#12 files are written with {@value #PKCS12_ROUNDS} round of key derivation (for the MAC and the
 * encryption of keys and certificates) instead of the JDK's 10,000: their password is public by design (the files
 * are protected by their permissions), so the rounds protected nothing, and every reader paid for them (the hub at
 * each start, about 0.4 s of CPU for its seven derivations and their JIT compilation; each client JVM loading the
 * trust store). The JDK cannot be told the rounds of the MAC and certificate encryption but through system-wide
 * properties, so BouncyCastle writes the files; the JDK reads them.
 */
final class DevCertificateIssuer {
    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration SERVER_VALIDITY = Duration.ofDays(730);
    /** Back-dating covers small clock differences between the hub and its clients. */
    private static final Duration BACKDATE = Duration.ofHours(1);
    private static final String SIGNATURE_ALGORITHM = "SHA256withRSA";
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Key derivation rounds of the PKCS#12 files (see the class comment). */
    static final int PKCS12_ROUNDS = 1;
    /** The JDK's PKCS#12 attribute that makes a certificate a trusted entry (Oracle's TrustedKeyUsage). */
    private static final ASN1ObjectIdentifier JDK_TRUSTED_KEY_USAGE = new ASN1ObjectIdentifier("2.16.840.1.113894.746875.1.1");
    private static final ASN1ObjectIdentifier ANY_EXTENDED_KEY_USAGE = new ASN1ObjectIdentifier("2.5.29.37.0");
    /** An instance for these writers only: never registered, so the JVM's providers stay as they are. */
    private static final BouncyCastleProvider PROVIDER = new BouncyCastleProvider();

    private DevCertificateIssuer() {
    }

    /**
     * A PKCS#12 key store holding one key entry, {@code alias}: the key and its chain (the JDK's layout: the key in
     * a shrouded key bag, the certificates in encrypted data, PBES2 with AES-256-CBC and HMAC-SHA256, a SHA-256 MAC).
     */
    static byte[] keyStore(String alias, PrivateKey key, X509Certificate[] chain, char[] password)
            throws GeneralSecurityException {
        try {
            OutputEncryptor encryptor = encryptor(password);
            DEROctetString keyId = localKeyId(chain[0]);
            PKCS12SafeBagBuilder keyBag = new JcaPKCS12SafeBagBuilder(key, encryptor);
            keyBag.addBagAttribute(PKCS12SafeBag.friendlyNameAttribute, new DERBMPString(alias));
            keyBag.addBagAttribute(PKCS12SafeBag.localKeyIdAttribute, keyId);
            PKCS12SafeBag[] certificates = new PKCS12SafeBag[chain.length];
            for (int i = 0; i < chain.length; i++) {
                PKCS12SafeBagBuilder bag = new JcaPKCS12SafeBagBuilder(chain[i]);
                if (i == 0) {
                    bag.addBagAttribute(PKCS12SafeBag.friendlyNameAttribute, new DERBMPString(alias));
                    bag.addBagAttribute(PKCS12SafeBag.localKeyIdAttribute, keyId);
                }
                certificates[i] = bag.build();
            }
            PKCS12PfxPduBuilder pfx = new PKCS12PfxPduBuilder();
            pfx.addEncryptedData(encryptor, certificates);
            pfx.addData(keyBag.build());
            return pfx.build(mac(), password).getEncoded(ASN1Encoding.DER);
        } catch (IOException | PKCSException | OperatorCreationException e) {
            throw new GeneralSecurityException("Cannot write a PKCS#12 key store: " + e.getMessage(), e);
        }
    }

    /** A PKCS#12 trust store holding {@code certificate} as the trusted entry {@code alias}, and nothing else. */
    static byte[] trustStore(String alias, X509Certificate certificate, char[] password) throws GeneralSecurityException {
        try {
            PKCS12SafeBagBuilder bag = new JcaPKCS12SafeBagBuilder(certificate);
            bag.addBagAttribute(PKCS12SafeBag.friendlyNameAttribute, new DERBMPString(alias));
            bag.addBagAttribute(JDK_TRUSTED_KEY_USAGE, ANY_EXTENDED_KEY_USAGE);
            PKCS12PfxPduBuilder pfx = new PKCS12PfxPduBuilder();
            pfx.addEncryptedData(encryptor(password), bag.build());
            return pfx.build(mac(), password).getEncoded(ASN1Encoding.DER);
        } catch (IOException | PKCSException | OperatorCreationException e) {
            throw new GeneralSecurityException("Cannot write a PKCS#12 trust store: " + e.getMessage(), e);
        }
    }

    private static OutputEncryptor encryptor(char[] password) throws OperatorCreationException {
        return new JcePKCSPBEOutputEncryptorBuilder(NISTObjectIdentifiers.id_aes256_CBC)
                .setPRF(new AlgorithmIdentifier(PKCSObjectIdentifiers.id_hmacWithSHA256, DERNull.INSTANCE))
                .setIterationCount(PKCS12_ROUNDS).setRandom(RANDOM).setProvider(PROVIDER).build(password);
    }

    private static JcePKCS12MacCalculatorBuilder mac() {
        return new JcePKCS12MacCalculatorBuilder(NISTObjectIdentifiers.id_sha256)
                .setIterationCount(PKCS12_ROUNDS).setProvider(PROVIDER);
    }

    /** Ties a key bag to its certificate's bag: the certificate's SHA-1 digest, as OpenSSL writes it. */
    private static DEROctetString localKeyId(X509Certificate certificate) throws GeneralSecurityException {
        return new DEROctetString(MessageDigest.getInstance("SHA-1").digest(certificate.getEncoded()));
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
