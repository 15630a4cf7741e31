package dev.iotjobs.fleet;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fleet simulator as a process of its own:
 * {@code java -cp <fleet-simulator classpath> dev.iotjobs.fleet.FleetMain [--amqp] <devices-file> [port] [trust-store]
 * [trust-store password] [host]}.
 * The devices file has one {@code deviceId,primaryKey} per line. The devices speak MQTT over TLS
 * ({@link FleetSimulator}, port 8883 by default), or with {@code --amqp} AMQP over TLS ({@link AmqpFleet}, port 5671
 * by default). It connects every device, prints
 * {@code CONNECTED <n> <seconds>}, keeps answering until its standard input closes (or Ctrl-C), then prints
 * {@code CALLS <lockDoor calls> PATCHES <desired patches>} and exits. {@code FLEET_FAULTS} (e.g.
 * {@code methodError=0.1,methodSilent=0.05,noReport=0.2}) turns on failure injection ({@link FleetSimulator.Faults}). A separate process keeps the hub's
 * and the devices' sockets in different processes (each side needs one descriptor per device).
 * <p>
 * A line {@code TELEMETRY <messages per device> <messages/s per device, 0: no limit> <PUBACK window> <body bytes>}
 * on its input makes every device send that telemetry ({@link FleetSimulator#sendTelemetry}); it prints
 * {@code TELEMETRY <messages> <seconds>} once the hub acknowledged them all, or {@code TELEMETRY-FAILED <why>}
 * (always with {@code --amqp}: the AMQP devices send no telemetry).
 */
public final class FleetMain {
    /** The local hub's documented defaults (its host name and its client trust store's public password). */
    static final String LOCAL_HUB_HOST = "127.0.0.1";
    static final String LOCAL_HUB_TRUST_STORE_PASSWORD = "localhub";

    private FleetMain() {
    }

    public static void main(String[] arguments) throws Exception {
        List<String> list = new ArrayList<>(List.of(arguments));
        boolean amqp = list.remove("--amqp");
        String[] args = list.toArray(String[]::new);
        if (args.length < 1) {
            System.err.println("Usage: FleetMain [--amqp] <devices-file: deviceId,primaryKey per line> [port: 8883, with --amqp 5671]"
                    + " [trust-store] [password] [host]");
            System.exit(2);
        }
        List<FleetSimulator.DeviceCredentials> devices = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
            int comma = line.indexOf(',');
            if (comma > 0) {
                devices.add(new FleetSimulator.DeviceCredentials(line.substring(0, comma), line.substring(comma + 1).trim()));
            }
        }
        int port = args.length > 1 ? Integer.parseInt(args[1]) : amqp ? 5671 : 8883;
        Path trustStore = Path.of(args.length > 2 ? args[2] : System.getProperty("javax.net.ssl.trustStore"));
        String password = args.length > 3 ? args[3] : LOCAL_HUB_TRUST_STORE_PASSWORD;
        String host = args.length > 4 ? args[4] : LOCAL_HUB_HOST;
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, Runtime.getRuntime().availableProcessors())));
        long start = System.nanoTime();
        SimulatedFleet fleet = amqp
                ? AmqpFleet.connect(vertx, new AmqpFleet.Options(host, port, trustStore, password, 200), devices)
                : FleetSimulator.connect(vertx, new FleetSimulator.Options(host, port, trustStore, password, 200), devices);
        String faults = System.getenv("FLEET_FAULTS"); // e.g. methodError=0.1,noReport=0.2 (FleetSimulator.Faults)
        if (faults != null && !faults.isBlank()) {
            fleet.injectFaults(FleetSimulator.Faults.parse(faults));
        }
        System.out.printf("CONNECTED %d %.1f%n", fleet.connectedCount(), (System.nanoTime() - start) / 1e9);
        System.out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                // keep running until the parent closes our input
                if (line.startsWith("TELEMETRY ")) {
                    telemetry(fleet, line.substring("TELEMETRY ".length()).trim().split("\\s+"));
                }
            }
        }
        System.out.printf("CALLS %d PATCHES %d%n", fleet.totalMethodCalls(), fleet.totalDesiredPatches());
        System.out.flush();
        fleet.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
        System.exit(0);
    }

    private static void telemetry(SimulatedFleet simulated, String[] a) {
        if (!(simulated instanceof FleetSimulator fleet)) {
            System.out.println("TELEMETRY-FAILED the AMQP devices send no telemetry: run the fleet without --amqp");
            System.out.flush();
            return;
        }
        try {
            FleetSimulator.TelemetryStats stats = fleet.sendTelemetry(new FleetSimulator.TelemetryPlan(
                    Integer.parseInt(a[0]), Double.parseDouble(a[1]), Integer.parseInt(a[2]), Integer.parseInt(a[3]))).join();
            System.out.printf("TELEMETRY %d %.3f%n", stats.messages(), stats.elapsed().toNanos() / 1e9);
        } catch (RuntimeException e) {
            System.out.println("TELEMETRY-FAILED " + e.getMessage());
        }
        System.out.flush();
    }
}
