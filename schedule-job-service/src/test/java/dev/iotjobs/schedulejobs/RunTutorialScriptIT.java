package dev.iotjobs.schedulejobs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * run-tutorial.sh's own logic, with stand-ins for java and mvn on the PATH (so no port, build or hub is
 * involved): it must stop as soon as an app it started dies, show that app's last lines, and ignore the
 * IOTHUB_* variables a user may have exported for Azure.
 */
class RunTutorialScriptIT {

    @Test
    void deadDevice_stopsTheScriptAtOnceWithItsLastLines(@TempDir Path dir) throws Exception {
        Path project = Files.createDirectories(dir.resolve("project"));
        Files.copy(Path.of("..", "run-tutorial.sh"), project.resolve("run-tutorial.sh"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        executable(bin.resolve("mvn"), "#!/bin/sh\nfor m in sim-device schedule-job-service; do mkdir -p $m/target; "
                + ": > $m/target/classpath.txt; done\n"); // what the build leaves for the apps' classpaths
        executable(bin.resolve("java"), """
                #!/usr/bin/env bash
                case "$*" in
                  *local-hub.jar*)   # the hub: write what a hub writes, say Ready, keep running
                    data="${@: -1}"; mkdir -p "$data"; : > "$data/client-jvm-flags.txt"
                    printf 'deviceConnectionString=d\\nhubConnectionString=h\\n' > "$data/endpoints.properties"
                    echo "Ready."; exec sleep 60 ;;
                  *SimDevice*)       # the device: fails at once
                    echo "The hub 127.0.0.1 refused the device (stand-in)"; exit 3 ;;
                  *) exec sleep 60 ;;
                esac
                """);

        ProcessBuilder builder = new ProcessBuilder("bash", project.resolve("run-tutorial.sh").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile());
        builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        builder.environment().put("IOTHUB_CONNECTION_STRING", "HostName=contoso.azure-devices.net;SharedAccessKeyName=x;SharedAccessKey=y");
        Process script = builder.start();
        boolean ended = script.waitFor(30, TimeUnit.SECONDS); // the old script waited 120 s for a dead device
        script.destroyForcibly();
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);

        assertTrue(ended, "run-tutorial.sh still waited for a device that had died:\n" + out);
        assertEquals(1, script.exitValue(), out);
        assertTrue(out.contains("ignoring IOTHUB_CONNECTION_STRING"), out);
        assertTrue(out.contains("the device stopped (exit code 3); its last lines:"), out);
        assertTrue(out.contains("    The hub 127.0.0.1 refused the device (stand-in)"), out);
        assertTrue(!out.contains("\u001b["), "colour codes in the output:\n" + out);
    }

    @Test
    void firstBuildSaysSoWithProgress_andAHubThatCannotStartIsReportedOnce(@TempDir Path dir) throws Exception {
        Path project = Files.createDirectories(dir.resolve("project"));
        Files.copy(Path.of("..", "run-tutorial.sh"), project.resolve("run-tutorial.sh"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        executable(bin.resolve("mvn"), "#!/bin/sh\necho '[INFO] Building sim-device: the simulated device 1.0.0-SNAPSHOT      [3/5]'\n"
                + "for m in sim-device schedule-job-service; do mkdir -p $m/target; : > $m/target/classpath.txt; done\n");
        String refusal = "local-hub could not start: port 8883 on 127.0.0.1 (MQTT (devices)) cannot be bound: Address already in use.";
        executable(bin.resolve("java"), "#!/bin/sh\necho '" + refusal + "' >&2; exit 1\n");

        ProcessBuilder builder = new ProcessBuilder("bash", project.resolve("run-tutorial.sh").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile());
        builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process script = builder.start();
        boolean ended = script.waitFor(30, TimeUnit.SECONDS);
        script.destroyForcibly();
        String out = Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8);

        assertTrue(ended, out);
        assertEquals(1, script.exitValue(), out);
        assertTrue(out.contains("First build of the project"), out);
        assertTrue(!out.contains("because the sources changed"), "there was no earlier build:\n" + out);
        assertTrue(out.matches("(?s).*building module \\d+ of \\d+: sim-device: the simulated device 1\\.0\\.0-SNAPSHOT.*"), out);
        assertEquals(1, out.split("Address already in use", -1).length - 1, "the hub's error, once:\n" + out);
        assertTrue(out.contains("the hub stopped (exit code 1); see its output above"), out);
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
