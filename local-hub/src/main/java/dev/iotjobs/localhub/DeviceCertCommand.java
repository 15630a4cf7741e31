package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.tls.DevCertificateAuthority;
import dev.iotjobs.localhub.tls.DeviceCertificates;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code local-hub issue-device-cert <deviceId> [--ca] [--data DIR] [--out FILE]}: test certificates for X.509
 * devices without OpenSSL. Writes a PKCS#12 file (key entry {@code device}, password {@code localhub}) and prints
 * what to register: the thumbprints for a {@code selfSigned} device, or (with {@code --ca}) a certificate signed
 * by the hub's development CA, which the hub trusts for {@code certificateAuthority} devices.
 */
final class DeviceCertCommand {
    static final String NAME = "issue-device-cert";
    static final String USAGE = """
            Usage: local-hub issue-device-cert <deviceId> [--ca] [--data DIR] [--out FILE]
              --ca         sign with the hub's development CA (for certificateAuthority devices);
                           default: self-signed (for selfSigned devices, matched by thumbprint)
              --data DIR   the hub's data directory (default ~/.local-iothub, or $LOCAL_IOTHUB_DATA)
              --out FILE   the PKCS#12 file to write (default <deviceId>.p12); password "localhub"
            """;

    private DeviceCertCommand() {
    }

    /** Runs the command ({@code args} without the command name); returns the exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        String deviceId = null;
        boolean ca = false;
        Path data = DataDirectory.defaultPath();
        Path file = null;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--ca" -> ca = true;
                    case "--data" -> data = Path.of(value(args, ++i));
                    case "--out" -> file = Path.of(value(args, ++i));
                    case "--help", "-h" -> {
                        out.print(USAGE);
                        return 0;
                    }
                    default -> {
                        if (args[i].startsWith("-") || deviceId != null) {
                            throw new IllegalArgumentException("Unexpected argument: " + args[i]);
                        }
                        deviceId = args[i];
                    }
                }
            }
            if (deviceId == null || deviceId.isEmpty()) {
                throw new IllegalArgumentException("The device id is missing.");
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (file == null) {
            file = Path.of(deviceId + ".p12");
        }
        try {
            DeviceCertificates.Issued issued;
            if (ca) {
                DevCertificateAuthority authority = DevCertificateAuthority.loadOrCreate(data); // creates the CA if new
                issued = DeviceCertificates.signedByDevCa(data, deviceId);
                out.println("Certificate for " + deviceId + " signed by the hub's development CA (" + authority.caPemPath() + ").");
                out.println("Register the device with authentication type certificateAuthority, e.g.");
                out.println("  new Device(\"" + deviceId + "\", AuthenticationType.CERTIFICATE_AUTHORITY)");
            } else {
                issued = DeviceCertificates.selfSigned(deviceId);
                out.println("Self-signed certificate for " + deviceId + ".");
                out.println("Register the device with authentication type selfSigned and one of these thumbprints:");
                out.println("  SHA-1:   " + DeviceCertificates.sha1Thumbprint(issued.certificate()));
                out.println("  SHA-256: " + DeviceCertificates.sha256Thumbprint(issued.certificate()));
            }
            Files.write(file, issued.pkcs12(WellKnownKeys.TRUST_STORE_PASSWORD.toCharArray()));
            out.println("Wrote " + file.toAbsolutePath() + " (PKCS12, alias " + DeviceCertificates.ALIAS + ", password "
                    + WellKnownKeys.TRUST_STORE_PASSWORD + ").");
            out.println("Device connection string: HostName=" + WellKnownKeys.HOST_NAME + ";DeviceId=" + deviceId + ";x509=true");
            return 0;
        } catch (Exception e) {
            err.println("Could not issue the certificate: " + e.getMessage());
            return 1;
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
