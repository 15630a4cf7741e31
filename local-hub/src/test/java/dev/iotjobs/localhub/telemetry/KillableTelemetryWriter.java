package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.IdentityKey;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Child process of {@link TelemetryLogTest#acknowledgedEventsSurviveKill9()}: appends messages from many
 * "devices" as fast as the log takes them (many in flight, as devices do) and prints {@code ACK {device} {n}}
 * for each acknowledged one, until it is killed.
 */
public final class KillableTelemetryWriter {
    static final int DEVICES = 16;

    public static void main(String[] args) throws Exception {
        TelemetryLog log = TelemetryLog.open(Path.of(args[0]), TelemetryOptions.DEFAULTS, Clock.systemUTC());
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        out.print("OPEN\n");
        out.flush();
        Semaphore inFlight = new Semaphore(2000);
        for (long n = 0; ; n++) {
            for (int d = 0; d < DEVICES; d++) {
                inFlight.acquire();
                String device = "dev" + d;
                long number = n;
                CompletableFuture<Void> done = log.append(message(device, number));
                done.whenComplete((v, e) -> {
                    if (e == null) {
                        synchronized (out) {
                            out.print("ACK " + device + " " + number + "\n");
                            out.flush();
                        }
                    }
                    inFlight.release();
                });
            }
        }
    }

    static TelemetryMessage message(String device, long n) {
        return new TelemetryMessage(IdentityKey.device(device), (device + "-" + n).getBytes(StandardCharsets.UTF_8),
                Map.of("n", Long.toString(n)), "m-" + n, null, "text/plain", "utf-8", null, null, "sas", "1");
    }
}
