package dev.iotjobs.localhub.device;

import java.time.Instant;
import java.util.function.UnaryOperator;

/**
 * Test-only door for the benchmarks ({@code dev.iotjobs.localhub.bench}) into this package: the stored form of
 * a device, exactly as {@link DeviceStore} writes it. The limit scenarios use it to measure the CPU cost of
 * that serialization and to make the documents they put into a bare store, and a twin job's batch change.
 */
public final class DeviceBenchAccess {
    private DeviceBenchAccess() {
    }

    /** The document the hub stores for this device version ({@link DeviceCodec#encode}). */
    public static byte[] encode(Device device) {
        return DeviceCodec.encode(device);
    }

    /**
     * Applies {@code change} to a batch of devices as {@link TwinService#patchMany} does: one instant, one
     * {@link TwinChange.Memo}, on this thread.
     */
    public static UnaryOperator<Device> batch(TwinChange change, Instant now) {
        TwinChange.Memo memo = new TwinChange.Memo();
        return d -> change.applyTo(d, now, memo);
    }
}
