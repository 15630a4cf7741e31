package dev.iotjobs.localhub.config;

import java.nio.file.Path;

/**
 * Where a local hub keeps its files, and the layout inside (documented in docs/local-hub.md):
 * <pre>
 * &lt;data dir&gt;/hub.mv.db                the store: registry, twins, jobs, per-device job records
 * &lt;data dir&gt;/certs/ca.pem             the development CA certificate (public)
 * &lt;data dir&gt;/certs/ca.p12             the CA key pair (private to this machine)
 * &lt;data dir&gt;/certs/server.p12         the server certificate and key
 * &lt;data dir&gt;/certs/truststore.p12     PKCS#12 trust store holding only the CA certificate (for clients)
 * &lt;data dir&gt;/endpoints.properties      the running hub's ports and well-known connection strings
 * &lt;data dir&gt;/client-jvm-flags.txt      the JVM options a Java app needs to reach the hub, one per line
 * </pre>
 * Default: {@code ~/.local-iothub}; override with the {@code LOCAL_IOTHUB_DATA} environment variable or
 * the {@code --data} option.
 */
public final class DataDirectory {
    public static final String ENV_VARIABLE = "LOCAL_IOTHUB_DATA";

    private DataDirectory() {
    }

    public static Path defaultPath() {
        String fromEnv = System.getenv(ENV_VARIABLE);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        return Path.of(System.getProperty("user.home"), ".local-iothub");
    }

    public static Path storeFile(Path dataDir) {
        return dataDir.resolve("hub.mv.db");
    }

    public static Path certsDir(Path dataDir) {
        return dataDir.resolve("certs");
    }

    public static Path caPem(Path dataDir) {
        return certsDir(dataDir).resolve("ca.pem");
    }

    public static Path caKeyStore(Path dataDir) {
        return certsDir(dataDir).resolve("ca.p12");
    }

    public static Path serverKeyStore(Path dataDir) {
        return certsDir(dataDir).resolve("server.p12");
    }

    public static Path endpointsFile(Path dataDir) {
        return dataDir.resolve("endpoints.properties");
    }

    public static Path clientJvmFlagsFile(Path dataDir) {
        return dataDir.resolve("client-jvm-flags.txt");
    }

    public static Path trustStore(Path dataDir) {
        return certsDir(dataDir).resolve("truststore.p12");
    }
}
