package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

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
 * Before that it stops, with one sentence and exit code 2, when the connection string says {@code HostName=localhost}
 * (the SDKs fail with it, each in its own words) and when the app's sources changed after its last compile
 * ({@code exec:java} does not compile: it would run the old app without a word).
 * <p>
 * Set by the poms as system properties: {@code localhub.sample.main} (the app's main class),
 * {@code localhub.sample.variable} (its connection string variable), {@code localhub.sample.connects}
 * ({@code device} or {@code service}: which development connection string it gets) and, optionally,
 * {@code localhub.sample.sources} (the module's {@code src/main}, for the check of stale classes).
 */
public final class SampleLauncher {
    /** The samples' exit code for "the hub cannot be reached". */
    static final int HUB_UNREACHABLE = 3;
    /** The samples' exit code for "bad settings". */
    static final int BAD_SETTINGS = 2;

    private SampleLauncher() {
    }

    public static void main(String[] args) throws Throwable {
        String mainClass = required("localhub.sample.main");
        String variable = required("localhub.sample.variable");
        boolean device = "device".equals(required("localhub.sample.connects"));

        String sources = System.getProperty("localhub.sample.sources");
        String stale = sources == null || sources.isBlank() ? null
                : staleClasses(Path.of(sources), Thread.currentThread().getContextClassLoader(), mainClass);
        if (stale != null) {
            System.out.println(stale);
            System.exit(BAD_SETTINGS);
        }
        String connectionString = args.length > 0 && !args[0].isBlank() ? args[0] : System.getenv(variable);
        if (connectionString == null || connectionString.isBlank()) {
            connectionString = device ? WellKnownKeys.DEVICE_CONNECTION_STRING : WellKnownKeys.HUB_CONNECTION_STRING;
            String[] withDefault = args.length == 0 ? new String[1] : args.clone();
            withDefault[0] = connectionString;
            args = withDefault;
            System.out.println("(local hub: " + variable + " is not set, so the app uses the local hub's "
                    + (device ? "development device '" + WellKnownKeys.DEFAULT_DEVICE_ID + "'" : "iothubowner policy") + ")");
        }
        String host = hostName(connectionString);
        if (host != null && isLocalhost(host)) {
            System.out.println("HostName=" + host + " does not reach the local hub: use HostName=" + WellKnownKeys.HOST_NAME
                    + " in the connection string (with " + host + " the device SDK wants a hub name before the host's"
                    + " first dot, and the hub listens and has its certificate for " + WellKnownKeys.HOST_NAME + " only).");
            System.exit(BAD_SETTINGS);
        }
        if (targetsLocalHub(connectionString)) {
            String problem = applyRunningHubsJvmFlags(DataDirectory.defaultPath());
            if (problem != null) {
                System.out.println(problem);
                System.exit(HUB_UNREACHABLE);
            }
            if (System.getProperty("https.proxyPort") != null) {
                System.out.println("(local hub: the hub could not bind port 443, so its service endpoint is behind its CONNECT"
                        + " proxy; the app gets the hub's JVM options from "
                        + DataDirectory.clientJvmFlagsFile(DataDirectory.defaultPath())
                        + ", which a copied app run with plain java needs too, see docs/tutorial.md)");
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

    /**
     * Why the app's classes are older than its sources (the file changed last, and the command that compiles and
     * runs), or null when they are up to date or cannot be compared (classes in a jar, no sources directory).
     */
    static String staleClasses(Path sources, ClassLoader loader, String mainClass) throws IOException {
        URL compiled = loader.getResource(mainClass.replace('.', '/') + ".class");
        if (compiled == null || !"file".equals(compiled.getProtocol()) || !Files.isDirectory(sources)) {
            return null;
        }
        FileTime compiledAt;
        try {
            compiledAt = Files.getLastModifiedTime(Path.of(compiled.toURI()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return null;
        }
        Path changed;
        try (Stream<Path> files = Files.walk(sources)) {
            // Java sources only: the compiler rewrites every class when one changed, whereas an edited resource is
            // copied to target/classes without touching the class, which would then look stale for ever.
            changed = files.filter(file -> file.toString().endsWith(".java") && Files.isRegularFile(file))
                    .filter(file -> lastModified(file).compareTo(compiledAt) > 0)
                    .findFirst().orElse(null);
        }
        if (changed == null) {
            return null;
        }
        Path module = sources.toAbsolutePath().normalize().getParent().getParent();
        return changed.getFileName() + " changed after the app was last compiled, and exec:java alone runs the"
                + " compiled (old) app. Compile and run it: mvn -pl " + module.getFileName() + " compile exec:java";
    }

    private static FileTime lastModified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /** The connection string's HostName, or null without one. */
    static String hostName(String connectionString) {
        return Arrays.stream(connectionString.split(";"))
                .map(String::trim)
                .filter(part -> part.toLowerCase(Locale.ROOT).replace(" ", "").startsWith("hostname="))
                .map(part -> part.substring(part.indexOf('=') + 1).trim())
                .findFirst().orElse(null);
    }

    /** localhost (any case, with or without a trailing dot or domain): a name the local hub cannot be reached by. */
    static boolean isLocalhost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.equals("localhost.") || h.startsWith("localhost.localdomain")
                || h.equals("[::1]") || h.equals("::1");
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
