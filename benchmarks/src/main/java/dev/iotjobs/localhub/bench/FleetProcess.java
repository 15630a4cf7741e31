package dev.iotjobs.localhub.bench;

import dev.iotjobs.fleet.FleetMain;
import dev.iotjobs.fleet.FleetSimulator;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The simulated fleet in a JVM of its own ({@link FleetMain}), as the method-job and limit-rpc scenarios (and their
 * AMQP variants) run it: same JVM options, same devices file, same protocol. Its output is echoed, indented, until the line waited for.
 */
final class FleetProcess implements AutoCloseable {
    /** What the fleet's devices speak: MQTT over TLS, or AMQP over TLS ({@code FleetMain --amqp}). */
    enum Protocol { MQTT, AMQP }

    private final Process process;
    private final BufferedReader out;
    private final Path devicesFile;

    private FleetProcess(Process process, Path devicesFile) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.devicesFile = devicesFile;
    }

    /** Starts an MQTT fleet; it connects every device to 127.0.0.1:{@code mqttPort}, trusting {@code trustStore}. */
    static FleetProcess start(List<FleetSimulator.DeviceCredentials> devices, int mqttPort, Path trustStore) throws IOException {
        return start(devices, Protocol.MQTT, mqttPort, trustStore);
    }

    /** Starts the fleet; it connects every device over {@code protocol} to 127.0.0.1:{@code port}, trusting {@code trustStore}. */
    static FleetProcess start(List<FleetSimulator.DeviceCredentials> devices, Protocol protocol, int port, Path trustStore)
            throws IOException {
        Path file = Files.createTempFile("fleet", ".csv");
        Files.write(file, devices.stream().map(d -> d.deviceId() + "," + d.primaryKey()).toList());
        // An AMQP device holds about 75 KB of heap (its proton-j connection: an encoder and a decoder with their type
        // tables, two sessions and six links, as the device SDK's), an MQTT device far less: 10,000 AMQP devices
        // need about 750 MB live, so their fleet gets 2 GB.
        String heap = protocol == Protocol.AMQP ? "-Xmx2g" : "-Xmx1g";
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), heap,
                // The fleet is a load generator with a small heap: the throughput collector spares the two
                // shared cores G1's concurrent marking and refinement threads (about a tenth of the CPU).
                "-XX:+UseParallelGC"));
        String fleetOptions = System.getProperty("bench.fleet.javaOptions", "");
        if (!fleetOptions.isBlank()) {
            command.addAll(Arrays.asList(fleetOptions.trim().split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), FleetMain.class.getName()));
        if (protocol == Protocol.AMQP) {
            command.add("--amqp");
        }
        command.addAll(List.of(file.toString(), Integer.toString(port), trustStore.toString()));
        try {
            return new FleetProcess(new ProcessBuilder(command).redirectErrorStream(true).start(), file);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /** Waits for the fleet's line starting with {@code prefix} (echoing the others). */
    String awaitLine(String prefix) throws IOException {
        return BenchOutput.awaitLine(out, "fleet", prefix);
    }

    /** Sends the fleet a command line (FleetMain's {@code TELEMETRY ...}). */
    void command(String line) throws IOException {
        process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
    }

    /**
     * Closes the fleet's input, so it reports its calls, and checks that it answered exactly {@code expected}
     * lockDoor calls and saw no desired-property patch.
     */
    void checkCalls(long expected) throws IOException {
        process.getOutputStream().close();
        String calls = awaitLine("CALLS");
        if (!calls.equals("CALLS " + expected + " PATCHES 0")) {
            throw new IllegalStateException("the fleet saw " + calls + ", expected " + expected + " calls");
        }
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        out.close();
        Files.deleteIfExists(devicesFile);
    }
}
