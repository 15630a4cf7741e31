package dev.iotjobs.localhub.junit;

import dev.iotjobs.localhub.LocalHub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Java app run in a JVM of its own, the way a user runs it from a terminal: its main class, the test's
 * classpath, the JVM options that reach a hub ({@link LocalHub#clientJvmFlags()}) when one is given, and only
 * the arguments and environment variables the test chooses (the caller's {@code IOTHUB_*} and
 * {@code LOCAL_IOTHUB_DATA} variables are removed). Nothing of the test JVM's system properties leaks into it.
 */
public final class AppProcess implements AutoCloseable {
    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final Thread reader;

    private AppProcess(List<String> command, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().keySet().removeIf(name -> name.startsWith("IOTHUB_") || name.equals("LOCAL_IOTHUB_DATA"));
        builder.environment().putAll(env);
        process = builder.start();
        reader = new Thread(this::readOutput, "app-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    public static Builder of(Class<?> mainClass) {
        return new Builder(mainClass.getName());
    }

    /** Everything the app printed so far (standard output and error). */
    public String output() {
        return output.toString();
    }

    /** Waits until the app printed {@code text}; fails, showing the output, if it did not in time or exited. */
    public void awaitOutput(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!output().contains(text)) {
            if (System.nanoTime() > deadline || !process.isAlive() && !reader.isAlive() && !output().contains(text)) {
                throw new AssertionError("The app did not print '" + text + "' within " + timeout + "; it printed:\n" + output());
            }
            Thread.sleep(20);
        }
    }

    /** Waits for the app to end and returns its exit code; fails, showing the output, if it is still running. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("The app was still running after " + timeout + "; it printed:\n" + output());
        }
        reader.join(5_000);
        return process.exitValue();
    }

    /**
     * Sends SIGINT, as Ctrl-C in a terminal does (Unix). A process started by one that ignores SIGINT ignores it too
     * (a shell's {@code nohup} or {@code &} without job control does that to Maven and every JVM under it): the app
     * would never see the Ctrl-C, so this fails at once and says so, on Linux, where {@code /proc} tells.
     */
    public void pressCtrlC() throws IOException, InterruptedException {
        if (ignoresSigint(process.pid())) {
            throw new IllegalStateException("The app ignores SIGINT, as it inherited from the build that started it"
                    + " (Maven run under nohup, or with & in a shell without job control): a Ctrl-C cannot be tested"
                    + " this way. Run the build in the foreground, or from a shell with job control (set -m).");
        }
        new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start().waitFor();
    }

    /** Whether the process's ignored-signals mask ({@code SigIgn} in /proc/PID/status) holds SIGINT (signal 2). */
    static boolean ignoresSigint(long pid) {
        Path status = Path.of("/proc", Long.toString(pid), "status");
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("SigIgn:")) {
                    return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16) & 0x2) != 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux) or the process has ended: nothing to tell
        }
        return false;
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    private void readOutput() {
        byte[] buffer = new byte[8192];
        try (InputStream in = process.getInputStream()) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    public static final class Builder {
        private final String mainClass;
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<String, String> env = new LinkedHashMap<>();

        private Builder(String mainClass) {
            this.mainClass = mainClass;
        }

        /** Adds the JVM options that let the app reach {@code hub} (its trust store, its proxy when needed). */
        public Builder reaching(LocalHub hub) {
            jvmOptions.addAll(hub.clientJvmFlags());
            return this;
        }

        public Builder jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /**
         * Runs the app to its end and checks what a user sees when a first run goes wrong: it stops within
         * {@code within} with {@code exitCode}, says {@code message}, prints no stack trace and never {@code secret}.
         */
        public void assertStops(Duration within, int exitCode, String message, String secret, String... args)
                throws IOException, InterruptedException {
            try (AppProcess app = start(args)) {
                int actual = app.awaitExit(within);
                String output = app.output();
                if (actual != exitCode || !output.contains(message) || output.contains(secret) || output.contains("\tat ")) {
                    throw new AssertionError("Expected exit code " + exitCode + ", the message '" + message
                            + "', no stack trace and no secret; got exit code " + actual + " and:\n" + output);
                }
            }
        }

        public AppProcess start(String... args) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvmOptions);
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
            command.addAll(List.of(args));
            return new AppProcess(command, env);
        }
    }
}
