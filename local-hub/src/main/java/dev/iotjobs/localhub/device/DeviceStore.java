package dev.iotjobs.localhub.device;

import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.HubStore.Bucket;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The devices' (identities' and twins') part of the {@link HubStore}: the {@code DEVICES} bucket, keyed by
 * device id, each value a {@link DeviceCodec} document. The only class that knows those keys. Modules are
 * stored the same way in their own bucket, {@code MODULES}, keyed {@code deviceId/moduleId} ({@link #modules}).
 */
public final class DeviceStore {
    private final HubStore store;
    private final Bucket bucket;

    public DeviceStore(HubStore store) {
        this(store, Bucket.DEVICES);
    }

    private DeviceStore(HubStore store, Bucket bucket) {
        this.store = store;
        this.bucket = bucket;
    }

    /** The store of module identities and twins (bucket {@code MODULES}). */
    public static DeviceStore modules(HubStore store) {
        return new DeviceStore(store, Bucket.MODULES);
    }

    boolean holdsModules() {
        return bucket == Bucket.MODULES;
    }

    /** Reads every stored device, in id order. */
    void loadAll(Consumer<Device> each) {
        store.forEach(bucket, (id, bytes) -> each.accept(DeviceCodec.decode(bytes)));
    }

    /** The write that stores one version of a device (to commit together with others). */
    HubStore.Write put(Device device) {
        return new HubStore.Write(bucket, device.id, DeviceCodec.encode(device));
    }

    HubStore.Write delete(String deviceId) {
        return new HubStore.Write(bucket, deviceId, null);
    }

    /** Commits writes (these devices' and other aggregates' that must be atomic with them) without waiting. */
    CompletableFuture<Void> commit(Collection<HubStore.Write> writes) {
        return writes.isEmpty() ? CompletableFuture.completedFuture(null) : store.putAllAsync(writes);
    }

    CompletableFuture<Void> commit(HubStore.Write write) {
        return commit(List.of(write));
    }
}
