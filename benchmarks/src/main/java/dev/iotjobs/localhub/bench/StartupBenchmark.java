package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code startup} scenario of {@link JobBenchmark}: how long until a hub serves.
 * <ul>
 * <li>The command-line hub: {@code java -jar local-hub/target/local-hub.jar} started as a child process, on free
 * ports (MQTT, REST, proxy and web console), with a data directory made by a first, uncounted start (so the CA and
 * the server certificate exist, as on every start but the first). A run lasts from starting the process to its
 * banner's ready line with both the MQTT and the REST port accepting a TCP connection. Extra JVM options for the
 * child: {@code -Dbench.startup.javaOptions="..."}. With {@code -Dbench.startup.cds=true} the first start records a
 * class-data-sharing archive and the counted ones use it, as {@code local-hub.sh} does (docs/local-hub.md).</li>
 * <li>The embedded hub: {@code LocalHub.start} in this JVM, as {@code LocalHubExtension} starts it for a test JVM
 * (a new temporary data directory, durable store, free ports); the first start loads the classes and is not
 * counted.</li>
 * </ul>
 * Prints {@code BENCH startup runs=<n> medianSeconds=<s> minSeconds=<s> maxSeconds=<s> embeddedMedianSeconds=<s>}.
 */
final class StartupBenchmark {
    private static final Pattern ENDPOINT = Pattern.compile("^  (?:devices  \\(MQTT/TLS\\)|service  \\(HTTPS\\)):\\s+(\\S+):(\\d+)$");
    private static final Pattern READY = Pattern.compile("^Ready(?: in ([0-9.]+) s)?\\..*");
    private static final long TIMEOUT_SECONDS = 60;

    private StartupBenchmark() {
    }

    static void run() throws Exception {
        int runs = Integer.getInteger("bench.startup.runs", 7);
        Path jar = Path.of(System.getProperty("bench.startup.jar", "local-hub/target/local-hub.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: build it with"
                    + " mvn -pl local-hub -am package -DskipTests (bench.sh does)");
        }
        Path data = Files.createTempDirectory("local-iothub-bench-startup");
        boolean cds = Boolean.getBoolean("bench.startup.cds");
        String archive = data.resolve("local-hub.jsa").toString();
        try {
            double first = startProcess(jar, data, cds ? List.of("-XX:ArchiveClassesAtExit=" + archive) : List.of());
            info("first start (creates the CA and the server certificate%s, not counted): %.3f s",
                    cds ? ", records the class-data-sharing archive" : "", first);
            List<Double> seconds = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                seconds.add(startProcess(jar, data, cds ? List.of("-XX:SharedArchiveFile=" + archive) : List.of()));
            }
            List<Double> embedded = embeddedStarts(runs);
            Collections.sort(seconds);
            System.out.println(String.format(Locale.ROOT,
                    "BENCH startup runs=%d medianSeconds=%.3f minSeconds=%.3f maxSeconds=%.3f embeddedMedianSeconds=%.3f",
                    runs, median(seconds), seconds.get(0), seconds.get(seconds.size() - 1), median(embedded)));
        } finally {
            delete(data);
        }
    }

    /** One start of the jar: seconds from starting the process to its ready line and both ports accepting. */
    private static double startProcess(Path jar, Path data, List<String> cdsOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(cdsOptions);
        String javaOptions = System.getProperty("bench.startup.javaOptions", "");
        if (!javaOptions.isBlank()) {
            command.addAll(Arrays.asList(javaOptions.trim().split("\\s+")));
        }
        command.addAll(List.of("-jar", jar.toString(), "--data", data.toString(),
                "--mqtt-port", "0", "--rest-port", "0", "--proxy-port", "0", "--console-port", "0"));
        long start = System.nanoTime();
        Process hub = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(hub.getInputStream(), StandardCharsets.UTF_8))) {
            List<InetSocketAddress> endpoints = new ArrayList<>();
            List<String> lines = new ArrayList<>();
            String ready = null;
            for (String line; ready == null && (line = out.readLine()) != null; ) {
                lines.add(line);
                Matcher endpoint = ENDPOINT.matcher(line);
                if (endpoint.matches()) {
                    endpoints.add(new InetSocketAddress(endpoint.group(1), Integer.parseInt(endpoint.group(2))));
                } else if (READY.matcher(line).matches()) {
                    ready = line;
                }
            }
            if (ready == null || endpoints.size() != 2) {
                throw new IllegalStateException("the hub did not start:\n" + String.join("\n", lines));
            }
            for (InetSocketAddress endpoint : endpoints) {
                awaitAccepting(endpoint, start);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Matcher own = READY.matcher(ready);
            info("start: %.3f s (the hub's banner: %s)", seconds, own.matches() && own.group(1) != null
                    ? own.group(1) + " s from the JVM's start" : "no time");
            return seconds;
        } finally {
            hub.destroy(); // SIGTERM: the hub's shutdown hook closes the store
            if (!hub.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    private static void awaitAccepting(InetSocketAddress endpoint, long start) throws InterruptedException {
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(endpoint, 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() - start > TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS)) {
                    throw new IllegalStateException(endpoint + " does not accept connections", e);
                }
                Thread.sleep(5);
            }
        }
    }

    /**
     * {@code runs + 1} embedded hubs started one after another in this JVM, each as the JUnit extension starts one
     * (its own new data directory); the seconds of each {@code LocalHub.start} but the first.
     */
    private static List<Double> embeddedStarts(int runs) throws Exception {
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i <= runs; i++) {
            Path data = Files.createTempDirectory("local-iothub-bench-embedded");
            try {
                long start = System.nanoTime();
                LocalHub hub = LocalHub.start(HubConfig.builder().dataDirectory(data).mqttPort(0).restPort(0)
                        .proxyPort(0).build());
                double s = (System.nanoTime() - start) / 1e9;
                hub.stop();
                info("embedded start%s: %.3f s", i == 0 ? " (loads the classes, not counted)" : "", s);
                if (i > 0) {
                    seconds.add(s);
                }
            } finally {
                delete(data);
            }
        }
        return seconds;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static void delete(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temporary directory
        }
    }

    private static void info(String format, Object... args) {
        System.out.println("  " + String.format(Locale.ROOT, format, args));
    }
}
