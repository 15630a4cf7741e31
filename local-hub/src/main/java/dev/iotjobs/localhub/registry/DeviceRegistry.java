package dev.iotjobs.localhub.registry;

import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.HubStore.Bucket;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * All devices of the hub, in memory, written through to the {@link HubStore}.
 * <p>
 * Changes to one device are serialised by a striped lock; a change is committed to the store before it
 * becomes visible (so what a client was told is durable, and readers never see uncommitted state).
 * Readers take the current immutable {@link Device} without locking.
 */
public final class DeviceRegistry {
    private static final int STRIPES = 1024;

    private final HubStore store;
    private final Clock clock;
    private final Map<String, Device> devices = new ConcurrentHashMap<>();
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    private final List<Consumer<String>> removalListeners = new CopyOnWriteArrayList<>();

    public DeviceRegistry(HubStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
        store.forEach(Bucket.DEVICES, (id, bytes) -> devices.put(id, Device.fromStored(Json.readStored(bytes))));
    }

    public Clock clock() {
        return clock;
    }

    /** Called with a device id when the device is deleted or disabled (its connection must go). */
    public void onRemovedOrDisabled(Consumer<String> listener) {
        removalListeners.add(listener);
    }

    public Device find(String id) {
        return id == null ? null : devices.get(id);
    }

    public Device get(String id) {
        Device d = find(id);
        if (d == null) {
            throw ErrorCode.DEVICE_NOT_FOUND.exception("Device " + id + " not found.");
        }
        return d;
    }

    public Collection<Device> all() {
        return Collections.unmodifiableCollection(devices.values());
    }

    /**
     * A snapshot of every twin document, as a random-access list (so queries can scan it on all cores);
     * each document is rendered when read.
     */
    public List<com.fasterxml.jackson.databind.JsonNode> twinDocuments() {
        Device[] snapshot = devices.values().toArray(new Device[0]);
        return new java.util.AbstractList<>() {
            @Override
            public com.fasterxml.jackson.databind.JsonNode get(int index) {
                return snapshot[index].twinDocument();
            }

            @Override
            public int size() {
                return snapshot.length;
            }
        };
    }

    public int size() {
        return devices.size();
    }

    /** Adds a device that must not exist yet (409001 otherwise). */
    public Device create(Device device) {
        return locked(device.id(), () -> {
            if (devices.containsKey(device.id())) {
                throw ErrorCode.DEVICE_ALREADY_EXISTS.exception("A device with ID '" + device.id() + "' is already registered.");
            }
            return persist(device);
        });
    }

    /** Adds many new devices with one commit; fails as a whole if any already exists. */
    public void createAll(List<Device> newDevices) {
        List<String> ids = newDevices.stream().map(Device::id).toList();
        lockedMany(ids, () -> {
            for (Device d : newDevices) {
                if (devices.containsKey(d.id())) {
                    throw ErrorCode.DEVICE_ALREADY_EXISTS.exception("A device with ID '" + d.id() + "' is already registered.");
                }
            }
            persistAll(newDevices, List.of());
            return null;
        });
    }

    /**
     * Applies {@code change} to the current device and commits the result.
     *
     * @throws HubException 404001 if the device does not exist
     */
    public Device update(String id, UnaryOperator<Device> change) {
        Device updated = locked(id, () -> persist(change.apply(get(id))));
        if (!updated.enabled()) {
            removalListeners.forEach(l -> l.accept(id));
        }
        return updated;
    }

    /**
     * Applies {@code change} to each existing device of {@code ids} and commits all results at once.
     * Devices that no longer exist are skipped; their ids are returned in {@code missing}.
     */
    public List<Device> updateMany(Collection<String> ids, UnaryOperator<Device> change, List<String> missing) {
        return updateMany(ids, change, missing, changed -> List.of());
    }

    /**
     * As {@link #updateMany(Collection, UnaryOperator, List)}, committing {@code extraWrites} (computed from
     * the changed devices) in the same commit, e.g. the job records that say these devices are done.
     */
    public List<Device> updateMany(Collection<String> ids, UnaryOperator<Device> change, List<String> missing,
                                   java.util.function.Function<List<Device>, List<HubStore.Write>> extraWrites) {
        return lockedMany(ids, () -> {
            List<Device> changed = new ArrayList<>(ids.size());
            for (String id : ids) {
                Device current = devices.get(id);
                if (current == null) {
                    missing.add(id);
                } else {
                    changed.add(change.apply(current));
                }
            }
            persistAll(changed, extraWrites.apply(changed));
            return changed;
        });
    }

    /** Deletes a device; {@code check} may veto (e.g. an etag precondition). */
    public void delete(String id, Consumer<Device> check) {
        locked(id, () -> {
            Device current = get(id);
            check.accept(current);
            store.delete(Bucket.DEVICES, id);
            devices.remove(id);
            return null;
        });
        removalListeners.forEach(l -> l.accept(id));
    }

    private Device persist(Device device) {
        store.put(Bucket.DEVICES, device.id(), Json.bytes(device.storedDocument()));
        devices.put(device.id(), device);
        return device;
    }

    private void persistAll(List<Device> changed, List<HubStore.Write> extra) {
        if (changed.isEmpty() && extra.isEmpty()) {
            return;
        }
        List<HubStore.Write> writes = new ArrayList<>(changed.size() + extra.size());
        writes.addAll(extra);
        for (Device d : changed) {
            writes.add(new HubStore.Write(Bucket.DEVICES, d.id(), Json.bytes(d.storedDocument())));
        }
        store.putAll(writes);
        for (Device d : changed) {
            devices.put(d.id(), d);
        }
    }

    private <T> T locked(String id, java.util.function.Supplier<T> action) {
        ReentrantLock lock = locks[stripe(id)];
        lock.lock();
        try {
            return action.get();
        } finally {
            lock.unlock();
        }
    }

    /** Takes the stripes of all ids in ascending order, so two batches can never deadlock. */
    private <T> T lockedMany(Collection<String> ids, java.util.function.Supplier<T> action) {
        TreeSet<Integer> stripes = new TreeSet<>();
        for (String id : ids) {
            stripes.add(stripe(id));
        }
        List<ReentrantLock> taken = new ArrayList<>(stripes.size());
        try {
            for (int s : stripes) {
                locks[s].lock();
                taken.add(locks[s]);
            }
            return action.get();
        } finally {
            for (int i = taken.size() - 1; i >= 0; i--) {
                taken.get(i).unlock();
            }
        }
    }

    private static int stripe(String id) {
        return (id.hashCode() & 0x7fffffff) % STRIPES;
    }
}
