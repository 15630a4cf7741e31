package dev.iotjobs.localhub.fault;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubLimits;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;

/**
 * Not part of the build's tests (the name matches no include): measures the hub's live heap under a twin-request
 * flood, a device with a 28 KB twin that sends 100,000 twin GETs and never reads, with the default limits; with
 * {@code -Dflood.unlimited=true} also 30,000 GETs with the limits lifted (the behaviour without the per-connection
 * limits; needs a large heap). Run: {@code mvn -pl benchmarks -am test -Dtest=HeapFloodMeasurement -Dsurefire.failIfNoSpecifiedTests=false}
 */
class HeapFloodMeasurement {
    static long liveHeapMb() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
    }

    @Test
    void measure() throws Exception {
        for (boolean limited : Boolean.getBoolean("flood.unlimited") ? new boolean[]{true, false} : new boolean[]{true}) {
            int gets = limited ? 100_000 : 30_000;
            HubLimits limits = limited ? HubLimits.DEFAULTS
                    : HubLimits.DEFAULTS.withMqttOutboundBytes(Integer.MAX_VALUE).withMqttTwinRequestsInFlight(Integer.MAX_VALUE);
            try (LocalHub hub = OwnHub.start(limits)) {
                HubDevices devices = new HubDevices(hub);
                HubDevices.Registered d = devices.register("heap");
                StringBuilder desired = new StringBuilder("{\"properties\":{\"desired\":{");
                for (int i = 0; i < 7; i++) {
                    desired.append(i == 0 ? "" : ",").append("\"p").append(i).append("\":\"").append("v".repeat(4000)).append('"');
                }
                desired.append("}}}");
                if (devices.http().send("PATCH", "/twins/" + d.id() + "?" + RawHttp.API, desired.toString()).status() != 200) {
                    throw new AssertionError("patch");
                }
                long before = liveHeapMb();
                int sent = 0;
                String outcome = "not disconnected";
                try (RawMqtt mqtt = RawMqtt.open(hub, 4096)) {
                    mqtt.send(RawMqtt.connect(d.id(), d.username(), d.token(), 600));
                    mqtt.await(RawMqtt.CONNACK);
                    mqtt.send(RawMqtt.subscribe(1, "$iothub/twin/res/#", 0));
                    mqtt.await(RawMqtt.SUBACK);
                    long start = System.nanoTime();
                    try {
                        for (; sent < gets; sent += 100) {
                            ByteArrayOutputStream batch = new ByteArrayOutputStream();
                            for (int i = 0; i < 100; i++) {
                                batch.writeBytes(RawMqtt.publish("$iothub/twin/GET/?$rid=" + (sent + i), new byte[0], 0, 0));
                            }
                            mqtt.send(batch.toByteArray());
                        }
                    } catch (IOException e) {
                        outcome = "disconnected by the hub";
                    }
                    System.err.printf("HEAP connected devices right after the flood: %d%n", hub.connectedDevices());
                    Thread.sleep(3000); // let the workers answer what they took
                    long after = liveHeapMb();
                    Thread.sleep(10000);
                    System.err.printf("HEAP limited=%s 13 s after the flood: live heap=%d MB%n", limited, liveHeapMb());
                    System.err.printf("HEAP limited=%s gets sent=%d (%s) live heap before=%d MB after=%d MB, %d ms%n",
                            limited, sent, outcome, before, after, (System.nanoTime() - start) / 1_000_000);
                }
                System.err.printf("HEAP limited=%s after close live heap=%d MB%n", limited, liveHeapMb());
            }
        }
    }
}
