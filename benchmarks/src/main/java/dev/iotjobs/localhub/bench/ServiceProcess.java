package dev.iotjobs.localhub.bench;

import dev.iotjobs.localhub.LocalHub;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The benchmarks' service side ({@link ServiceClientMain}) in a JVM of its own, with the hub's client JVM options. */
final class ServiceProcess implements AutoCloseable {
    /**
     * What a job command answers: the time the service saw, the job's status and count, and the hub's time
     * (from the job's creation to its end).
     */
    record JobResult(double seconds, String status, long succeeded, long hubMillis) {
        /**
         * The job's duration by the hub's own record (createdTime to endTime, as IoT Hub reports a job): what the
         * benchmarks' rates are computed from. The service sees the end up to one poll interval later.
         */
        double hubSeconds() {
            return hubMillis / 1e3;
        }
    }

    /** How often the service process polls a job it follows, unless {@code -Dbench.pollMillis} says otherwise. */
    static final int POLL_MILLIS = 100;

    private final Process process;
    private final BufferedReader out;
    private final PrintStream in;

    ServiceProcess(LocalHub hub) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        command.addAll(hub.clientJvmFlags());
        command.add("-Dbench.pollMillis=" + Integer.getInteger("bench.pollMillis", POLL_MILLIS));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), ServiceClientMain.class.getName()));
        process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        expect("READY");
    }

    /** scheduleUpdateTwin (the tutorial's patch plus tags.floor) over {@code condition}, until terminal. */
    JobResult twinJob(String jobId, String condition) throws IOException {
        return job("twin " + jobId + " " + condition);
    }

    /** scheduleDeviceMethod lockDoor over {@code condition}, until terminal. */
    JobResult methodJob(String jobId, String condition) throws IOException {
        return job("method " + jobId + " " + condition);
    }

    /** Runs a {@code SELECT COUNT() AS n ...} query: {count, milliseconds}. */
    long[] count(String sql) throws IOException {
        String[] words = command("count " + sql, "COUNT").split(" ");
        return new long[] {Long.parseLong(words[1]), Long.parseLong(words[2])};
    }

    /** Each device's time from dispatch to answer in the job's records, sorted. */
    long[] latencies(String jobId) throws IOException {
        String line = command("latencies " + jobId, "LATENCIES");
        return Arrays.stream(line.split(" ")).skip(1).mapToLong(Long::parseLong).toArray();
    }

    private JobResult job(String commandLine) throws IOException {
        String[] w = command(commandLine, "JOB").split(" ");
        return new JobResult(Double.parseDouble(w[1]), w[2], Long.parseLong(w[3]), Long.parseLong(w[4]));
    }

    private String command(String line, String answerPrefix) throws IOException {
        in.println(line);
        return expect(answerPrefix);
    }

    private String expect(String prefix) throws IOException {
        return BenchOutput.awaitLine(out, "service", prefix);
    }

    @Override
    public void close() throws IOException {
        in.close();
        process.destroy();
        out.close();
    }
}
