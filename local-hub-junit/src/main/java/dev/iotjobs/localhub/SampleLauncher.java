package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;

/**
 * Runs an unmodified sample app against the local hub. The sample modules' {@code mvn exec:java} starts the
 * apps through this class (see their poms), so that the sample files themselves stay pure Azure SDK code:
 * <ul>
 *   <li>With no connection string (no first argument, and the app's environment variable unset), it passes the
 *       local hub's well-known development connection string as the first argument.</li>
 *   <li>When the connection string points at the local hub (host 127.0.0.1), it applies the JVM
 *       options the running hub wrote to its data directory (trust of its development CA; its CONNECT proxy when
 *       port 443 could not be bound), and stops with a plain sentence when no hub is running.</li>
 *   <li>For any other host (Azure) it changes nothing.</li>
 * </ul>
 * Set by the poms as system properties: {@code localhub.sample.main} (the app's main class),
 * {@code localhub.sample.variable} (its connection string variable) and {@code localhub.sample.connects}
 * ({@code device} or {@code service}: which development connection string it gets).
 */
public final class SampleLauncher {
    /** The samples' exit code for "the hub cannot be reached". */
    static final int HUB_UNREACHABLE = 3;

    private SampleLauncher() {
    }

    public static void main(String[] args) throws Throwable {
        String mainClass = required("localhub.sample.main");
        String variable = required("localhub.sample.variable");
        boolean device = "device".equals(required("localhub.sample.connects"));

        String connectionString = args.length > 0 && !args[0].isBlank() ? args[0] : System.getenv(variable);
        if (connectionString == null || connectionString.isBlank()) {
            connectionString = device ? WellKnownKeys.DEVICE_CONNECTION_STRING : WellKnownKeys.HUB_CONNECTION_STRING;
            String[] withDefault = args.length == 0 ? new String[1] : args.clone();
            withDefault[0] = connectionString;
            args = withDefault;
            System.out.println("(local hub: " + variable + " is not set, so the app uses the local hub's "
                    + (device ? "development device '" + WellKnownKeys.DEFAULT_DEVICE_ID + "'" : "iothubowner policy") + ")");
        }
        if (targetsLocalHub(connectionString)) {
            String problem = applyRunningHubsJvmFlags(DataDirectory.defaultPath());
            if (problem != null) {
                System.out.println(problem);
                System.exit(HUB_UNREACHABLE);
            }
        }
        MethodHandles.publicLookup()
                .findStatic(Class.forName(mainClass, true, Thread.currentThread().getContextClassLoader()), "main",
                        MethodType.methodType(void.class, String[].class))
                .invokeExact(args);
    }

    /**
     * Sets the system properties of the running hub's client JVM options (never overriding one the user set),
     * or returns why the local hub cannot be used.
     */
    static String applyRunningHubsJvmFlags(Path dataDir) throws IOException {
        Path endpointsFile = DataDirectory.endpointsFile(dataDir);
        Path flagsFile = DataDirectory.clientJvmFlagsFile(dataDir);
        String start = " Start it first, in its own terminal: mvn -pl local-hub exec:java (see README.md).";
        if (!Files.isRegularFile(endpointsFile) || !Files.isRegularFile(flagsFile)) {
            return "No local hub has run with the data directory " + dataDir + " yet." + start
                    + " A hub with another data directory needs " + DataDirectory.ENV_VARIABLE + " set to it here too.";
        }
        Properties endpoints = new Properties();
        try (InputStream in = Files.newInputStream(endpointsFile)) {
            endpoints.load(in);
        }
        int mqttPort = Integer.parseInt(endpoints.getProperty("mqttPort", "8883"));
        if (!listening(WellKnownKeys.HOST_NAME, mqttPort)) {
            return "No local hub is running on " + WellKnownKeys.HOST_NAME + ":" + mqttPort + " (data directory "
                    + dataDir + ")." + start;
        }
        for (String flag : Files.readAllLines(flagsFile)) {
            int eq = flag.indexOf('=');
            if (flag.startsWith("-D") && eq > 2 && System.getProperty(flag.substring(2, eq)) == null) {
                System.setProperty(flag.substring(2, eq), flag.substring(eq + 1));
            }
        }
        return null;
    }

    private static boolean listening(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** True when the connection string's HostName is the local hub's (127.0.0.1: the SDKs refuse "localhost"). */
    static boolean targetsLocalHub(String connectionString) {
        return Arrays.stream(connectionString.split(";"))
                .map(part -> part.trim().toLowerCase(Locale.ROOT).replace(" ", ""))
                .anyMatch(part -> part.equals("hostname=" + WellKnownKeys.HOST_NAME));
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("SampleLauncher needs the system property " + property + " (see the sample poms)");
        }
        return value;
    }
}
