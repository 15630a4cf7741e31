package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;

/**
 * Makes the JVM trust the local hub's development CA, but only when a connection string points at the
 * local hub (host 127.0.0.1 or localhost). Against Azure nothing changes: the JVM's normal trust applies.
 * <p>
 * Both Azure IoT SDKs use the JVM default trust, which honours {@code javax.net.ssl.trustStore}; this
 * class sets that property to the trust store the hub writes into its data directory. It must run before
 * the first TLS connection of the JVM. An explicitly configured trust store is left alone.
 */
public final class LocalHubTrust {
    private LocalHubTrust() {
    }

    /**
     * Trusts the local hub's CA when {@code connectionString} targets the local hub.
     *
     * @return true if the local hub's trust store is (now) in use
     * @throws IllegalStateException if the connection string targets the local hub but no hub has
     *                               written its certificates yet (start the hub first)
     */
    public static boolean trustLocalHubIfTargeted(String connectionString) {
        if (!targetsLocalHub(connectionString)) {
            return false;
        }
        if (System.getProperty("javax.net.ssl.trustStore") != null) {
            return true;
        }
        Path trustStore = DataDirectory.trustStore(DataDirectory.defaultPath());
        if (!Files.isRegularFile(trustStore)) {
            throw new IllegalStateException("The connection string points at the local hub, but " + trustStore
                    + " does not exist yet. Start the local hub first (see README.md), or set "
                    + DataDirectory.ENV_VARIABLE + " to the hub's data directory.");
        }
        System.setProperty("javax.net.ssl.trustStore", trustStore.toString());
        System.setProperty("javax.net.ssl.trustStorePassword", WellKnownKeys.TRUST_STORE_PASSWORD);
        System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
        useProxyIfHubCouldNotBind443();
        return true;
    }

    /**
     * Where port 443 was refused to the hub (non-root Linux), it serves its REST endpoint through an HTTPS
     * CONNECT proxy; the service SDK honours the standard https.proxyHost/https.proxyPort properties.
     */
    private static void useProxyIfHubCouldNotBind443() {
        Path file = DataDirectory.endpointsFile(DataDirectory.defaultPath());
        if (System.getProperty("https.proxyHost") != null || !Files.isRegularFile(file)) {
            return;
        }
        Properties endpoints = new Properties();
        try (var in = Files.newInputStream(file)) {
            endpoints.load(in);
        } catch (IOException e) {
            return;
        }
        String proxyPort = endpoints.getProperty("proxyPort", "-1");
        if (!"443".equals(endpoints.getProperty("restPort")) && !proxyPort.startsWith("-")) {
            System.setProperty("https.proxyHost", WellKnownKeys.HOST_NAME);
            System.setProperty("https.proxyPort", proxyPort);
            // The JDK never proxies 127.* by default (http.nonProxyHosts); the hub *is* on 127.0.0.1.
            if (System.getProperty("http.nonProxyHosts") == null) {
                System.setProperty("http.nonProxyHosts", "");
            }
        }
    }

    /** True when the connection string's HostName is a loopback name the local hub serves. */
    public static boolean targetsLocalHub(String connectionString) {
        if (connectionString == null) {
            return false;
        }
        for (String part : connectionString.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(0, eq).trim().equalsIgnoreCase("HostName")) {
                String host = part.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
                return host.equals("127.0.0.1") || host.equals("localhost");
            }
        }
        return false;
    }
}
