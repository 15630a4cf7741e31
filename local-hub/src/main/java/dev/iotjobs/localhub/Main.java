package dev.iotjobs.localhub;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.telemetry.TelemetryOptions;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Command line: {@code java -jar local-hub.jar [options]} or {@code mvn -pl local-hub exec:java}. */
public final class Main {
    static final String VERSION = "1.0.0";
    private static final String USAGE = """
            Usage: local-hub [options]
                   local-hub issue-device-cert <deviceId> [--ca] [--data DIR] [--out FILE]   (X.509 test certificates)
              --data DIR         data directory (default ~/.local-iothub, or $LOCAL_IOTHUB_DATA)
              --in-memory        keep registry, twins and jobs in memory only
              --host ADDRESS     bind address (default 127.0.0.1)
              --mqtt-port N      device endpoint, MQTT over TLS (default 8883; the device SDK dials 8883)
              --rest-port N      service endpoint, HTTPS (default 443; the service SDK dials 443)
              --amqp-port N      device and service endpoint, AMQP over TLS (default 5671; the SDKs dial 5671)
              --proxy-port N     HTTPS CONNECT proxy used when --rest-port cannot be bound (default 4443)
              --tls-engine E     auto (BoringSSL where it loads, else the JDK's) or jdk (default auto)
              --max-active-jobs N   jobs that may be queued or running at once (default 10, as IoT Hub S3)
              --methods-in-flight N direct-method calls one method job keeps in flight (default 2000)
              --tier T           apply IoT Hub tier T's quotas and throttles: F1, S1, S2 or S3 (default: none,
                                 as fast as the hub can; see docs/local-hub.md, "Tiers")
              --units N          units of that tier (default 1)
              --event-hubs-port N   built-in endpoint, Event Hubs-compatible AMQP without TLS (default 5672;
                                    Event Hubs clients dial it with UseDevelopmentEmulator=true)
              --telemetry-partitions N   partitions of the built-in endpoint, 1-32 (default 4; fixed once created)
              --telemetry-retention D    how long telemetry is kept: 1d, 12h, 30m or 90s (default 1d)
              --telemetry-max-mb N       size cap of the telemetry on disk, in MB (default 1024)
              --consumer-group NAME      a consumer group besides $Default (repeatable)
              --console-port N   web console, http://127.0.0.1:N (default 8080; 0 picks a free port)
              --no-console       no web console
              --help             this text
            """;

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length > 0 && DeviceCertCommand.NAME.equals(args[0])) {
            System.exit(DeviceCertCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
            return;
        }
        HubConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (config == null) {
            System.out.print(USAGE);
            return;
        }
        // When this JVM started (the banner tells how long the start took); read aside, as the management classes
        // take tens of milliseconds to load.
        StartupStep<Long> jvmStart = StartupStep.start("local-hub-jvm-start-time",
                () -> ManagementFactory.getRuntimeMXBean().getStartTime());
        LocalHub hub;
        Duration startUp;
        try {
            hub = LocalHub.start(config); // returns once every endpoint accepts connections
            long readyAt = System.currentTimeMillis();
            Long jvmStartMillis = jvmStart.awaitQuietly();
            startUp = jvmStartMillis == null ? null : Duration.ofMillis(readyAt - jvmStartMillis);
        } catch (RuntimeException e) {
            System.err.println("local-hub could not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            hub.stop();
            stopped.countDown();
        }, "local-hub-shutdown"));
        System.out.println(banner(hub, startUp));
        stopped.await();
    }

    static HubConfig parse(String[] args) {
        HubConfig.Builder b = HubConfig.builder().consolePort(HubConfig.DEFAULT_CONSOLE_PORT)
                .eventHubsPort(HubConfig.DEFAULT_EVENT_HUBS_PORT);
        TelemetryOptions telemetry = TelemetryOptions.DEFAULTS;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--help", "-h" -> {
                    return null;
                }
                case "--in-memory" -> b.inMemory(true);
                case "--data" -> b.dataDirectory(Path.of(value(args, ++i, a)));
                case "--host" -> b.bindHost(value(args, ++i, a));
                case "--mqtt-port" -> b.mqttPort(port(value(args, ++i, a), a));
                case "--amqp-port" -> b.amqpPort(port(value(args, ++i, a), a));
                case "--rest-port" -> b.restPort(port(value(args, ++i, a), a));
                case "--proxy-port" -> b.proxyPort(port(value(args, ++i, a), a));
                case "--tls-engine" -> b.tlsEngine(HubConfig.TlsEngine.parse(value(args, ++i, a)));
                case "--max-active-jobs" -> b.maxActiveJobs(positive(value(args, ++i, a), a));
                case "--methods-in-flight" -> b.methodsInFlight(positive(value(args, ++i, a), a));
                case "--tier" -> b.tier(dev.iotjobs.localhub.throttle.Tier.parse(value(args, ++i, a)));
                case "--units" -> b.units(positive(value(args, ++i, a), a));
                case "--console-port" -> b.consolePort(port(value(args, ++i, a), a));
                case "--no-console" -> b.consolePort(HubConfig.CONSOLE_OFF);
                case "--event-hubs-port" -> b.eventHubsPort(port(value(args, ++i, a), a));
                case "--telemetry-partitions" -> {
                    int n = positive(value(args, ++i, a), a);
                    if (n > TelemetryOptions.MAX_PARTITIONS) {
                        throw new IllegalArgumentException(a + " must be 1 to " + TelemetryOptions.MAX_PARTITIONS + ", not " + n);
                    }
                    telemetry = telemetry.withPartitions(n);
                }
                case "--telemetry-retention" -> telemetry = telemetry.withRetention(duration(value(args, ++i, a), a));
                case "--telemetry-max-mb" -> telemetry = telemetry.withMaxBytes(positive(value(args, ++i, a), a) * (1L << 20));
                case "--consumer-group" -> telemetry = telemetry.withConsumerGroup(value(args, ++i, a));
                default -> throw new IllegalArgumentException("Unknown option: " + a);
            }
        }
        return b.telemetry(telemetry).build();
    }

    /** {@code 1d}, {@code 12h}, {@code 30m}, {@code 90s}: a positive duration. */
    static Duration duration(String text, String option) {
        Matcher m = Pattern.compile("(\\d{1,9})([dhms])").matcher(text.trim());
        if (m.matches() && Long.parseLong(m.group(1)) > 0) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "d" -> Duration.ofDays(n);
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
            };
        }
        throw new IllegalArgumentException(option + " must be a positive number followed by d, h, m or s (e.g. 1d), not '" + text + "'");
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int positive(String text, String option) {
        try {
            int n = Integer.parseInt(text);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a positive number, not '" + text + "'");
    }

    private static int port(String text, String option) {
        try {
            int p = Integer.parseInt(text);
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a port number (0-65535), not '" + text + "'");
    }

    /**
     * What the hub prints once both endpoints accept connections.
     *
     * @param startUp from the JVM's start to that moment, or null when unknown
     */
    static String banner(LocalHub hub, Duration startUp) {
        HubConfig c = hub.config();
        StringBuilder s = new StringBuilder();
        s.append("local-hub ").append(VERSION).append(" - a local Azure IoT Hub for development (never for production)\n");
        s.append("  devices  (MQTT/TLS): ").append(c.bindHost()).append(':').append(hub.mqttPort()).append('\n');
        s.append("  service  (HTTPS):    ").append(c.bindHost()).append(':').append(hub.restPort()).append('\n');
        s.append("  AMQP     (TLS):      ").append(c.bindHost()).append(':').append(hub.amqpPort())
                .append("  (devices and services; AMQP over WebSockets on the HTTPS port)\n");
        s.append("  built-in endpoint:   ").append(c.bindHost()).append(':').append(hub.eventHubsPort())
                .append(" (Event Hubs-compatible, AMQP; event hub '").append(hub.eventHubName()).append("', ")
                .append(c.telemetry().partitions()).append(" partitions)\n");
        if (hub.consoleUrl() != null) {
            s.append("  console  (HTTP):     ").append(hub.consoleUrl())
                    .append("  (loopback only; acts with the iothubowner policy)\n");
        } else if (hub.consoleProblem() != null) {
            s.append("  console:             not started: ").append(hub.consoleProblem()).append('\n');
        }
        s.append("  TLS engine:          ").append(hub.tlsEngineName()).append('\n');
        if (c.tier() != null) { // tier emulation: IoT Hub's quotas and throttles (docs/local-hub.md, "Tiers")
            s.append("  tier:                ").append(hub.throttles().describe())
                    .append(" (IoT Hub's quotas and throttles; jobs run ")
                    .append(Math.round(hub.throttles().perSecond(dev.iotjobs.localhub.throttle.Operation.JOB_DEVICE_OPERATIONS)))
                    .append(" device operations/s, ").append(hub.throttles().maxActiveJobs(0))
                    .append(" active job(s) at once)\n");
        }
        s.append("  store:               ").append(c.inMemory() ? "in memory" : c.dataDirectory()).append('\n');
        s.append("  CA certificate:      ").append(hub.caCertificatePem()).append('\n');
        s.append("  trust store:         ").append(hub.trustStore()).append(" (PKCS12, password ")
                .append(WellKnownKeys.TRUST_STORE_PASSWORD).append(")\n");
        s.append("Hub connection string (iothubowner, well-known development key):\n  ")
                .append(hub.hubConnectionString()).append('\n');
        s.append("Device connection string (").append(WellKnownKeys.DEFAULT_DEVICE_ID).append("):\n  ")
                .append(WellKnownKeys.DEVICE_CONNECTION_STRING).append('\n');
        s.append("Event Hubs-compatible connection string (built-in endpoint, service policy; docs/telemetry.md):\n  ")
                .append(hub.eventHubsConnectionString()).append('\n');
        s.append("Java apps reach this hub with these JVM options (also in ")
                .append(DataDirectory.clientJvmFlagsFile(c.dataDirectory())).append("):\n  ")
                .append(String.join(" ", hub.clientJvmFlags())).append('\n');
        if (hub.restBindProblem() != null) {
            s.append("\nNOTE: port ").append(c.restPort()).append(" could not be bound (").append(hub.restBindProblem())
                    .append("),\nso the service endpoint is on port ").append(hub.restPort())
                    .append(" behind this hub's CONNECT proxy on port ").append(hub.proxyPort())
                    .append(" (the JVM options above use it;\nthe sample apps and run-tutorial.sh do this by themselves).")
                    .append(" To serve 443 directly instead (Linux, until the next reboot):\n")
                    .append("  sudo sysctl net.ipv4.ip_unprivileged_port_start=443\n");
        }
        s.append(startUp == null ? "Ready." : String.format(Locale.ROOT, "Ready in %.2f s.", startUp.toMillis() / 1000.0))
                .append(" Ctrl-C stops the hub.");
        return s.toString();
    }
}
