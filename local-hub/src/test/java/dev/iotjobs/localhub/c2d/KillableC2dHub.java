package dev.iotjobs.localhub.c2d;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.store.MvHubStore;

import java.nio.file.Path;
import java.time.Clock;

/**
 * Child process of {@link C2dKillTest}: queues {@value #SENT} messages, completes the first {@value #COMPLETED},
 * prints {@code SENT}/{@code DONE} lines only after each call returned, then {@code IDLE}, and waits to be killed.
 */
public final class KillableC2dHub {
    static final int SENT = 30;
    static final int COMPLETED = 12;

    public static void main(String[] args) throws Exception {
        MvHubStore store = MvHubStore.open(DataDirectory.storeFile(Path.of(args[0])));
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        registry.ensureDevice("d1", "gen-1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        C2dQueues queues = new C2dQueues(store, registry, Clock.systemUTC(), C2dSettings.DEFAULTS);
        for (int i = 0; i < SENT; i++) {
            queues.send(new C2dSend("d1", new byte[]{(byte) i}, java.util.Map.of("n", Integer.toString(i)), "m" + i,
                    null, null, null, null, C2dAck.FULL, null));
            System.out.println("SENT m" + i);
        }
        for (int i = 0; i < COMPLETED; i++) {
            C2dDelivery d = queues.receive("d1", null);
            queues.complete("d1", d.lockToken());
            System.out.println("DONE " + d.message().messageId());
        }
        queues.receive("d1", null); // locked when killed: must come back
        System.out.println("IDLE");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
