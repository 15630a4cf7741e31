package dev.iotjobs.localhub.dist;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.junit.AppProcess;
import dev.iotjobs.schedulejobs.ScheduleJobService;
import dev.iotjobs.simdevice.SimDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The distribution as a user without Java gets it: the archive unpacked, bin/local-hub started on a data directory of
 * its own (its own Java runtime, no JDK or Maven), and the tutorial's device and service run against it, each in a
 * JVM of its own with the JVM options the hub wrote for clients.
 */
class DistributionIT {

    @Test
    void unpackedHub_runsTheTutorial(@TempDir Path dir) throws Exception {
        Path archive = Path.of(System.getProperty("dist.archive"));
        assertEquals(0, new ProcessBuilder("tar", "xzf", archive.toString(), "-C", dir.toString()).inheritIO().start().waitFor());
        Path home = dir.resolve("local-hub");
        assertTrue(Files.isExecutable(home.resolve("runtime/bin/java")), "the archive has no runtime");
        assertFalse(Files.exists(home.resolve("runtime/jmods")), "a runtime, not a JDK");

        Path data = dir.resolve("data");
        Path hubLog = dir.resolve("hub.log");
        ProcessBuilder start = new ProcessBuilder(home.resolve("bin/local-hub").toString(), "--data", data.toString(), "--no-console")
                .redirectErrorStream(true).redirectOutput(hubLog.toFile());
        start.environment().keySet().removeIf(name -> name.equals("JAVA_HOME") || name.startsWith("IOTHUB_")
                || name.equals("LOCAL_IOTHUB_DATA") || name.equals("LOCAL_HUB_JAVA_OPTS"));
        Process hub = start.start();
        try {
            awaitLog(hub, hubLog, "Ready", Duration.ofSeconds(90));
            List<String> clientFlags = Files.readAllLines(data.resolve("client-jvm-flags.txt"));

            AppProcess.Builder deviceApp = AppProcess.of(SimDevice.class);
            AppProcess.Builder serviceApp = AppProcess.of(ScheduleJobService.class).env("POLL_INTERVAL_SECONDS", "1");
            for (String flag : clientFlags) {
                deviceApp.jvmOption(flag);
                serviceApp.jvmOption(flag);
            }
            try (AppProcess device = deviceApp.start(WellKnownKeys.DEVICE_CONNECTION_STRING)) {
                device.awaitOutput("waiting for commands", Duration.ofSeconds(60));
                try (AppProcess service = serviceApp.start(WellKnownKeys.HUB_CONNECTION_STRING)) {
                    assertEquals(0, service.awaitExit(Duration.ofSeconds(120)), service.output());
                    assertTrue(service.output().contains("Both jobs completed on every device."), service.output());
                }
                device.awaitOutput("\"building\":43", Duration.ofSeconds(30));
                assertTrue(device.output().contains("Locking Door!"), device.output());
            }
        } finally {
            new ProcessBuilder("kill", "-INT", Long.toString(hub.pid())).inheritIO().start().waitFor();
            if (!hub.waitFor(30, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    /** Waits until the hub printed {@code text}; fails with its output if it exited or took too long. */
    private static void awaitLog(Process hub, Path log, String text, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String output = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            if (output.contains(text)) {
                return;
            }
            if (!hub.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("bin/local-hub did not print '" + text + "' within " + timeout + "; it printed:\n" + output);
            }
            Thread.sleep(50);
        }
    }
}
