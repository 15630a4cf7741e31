package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.store.HubStore;

import java.time.Clock;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * All devices of the hub, in memory, written through to the store ({@link DeviceStore}).
 * <p>
 * A change to a device is computed under that device's (striped) lock from its latest version, including
 * versions still being committed, and handed to the store; the lock is released before the commit, so
 * many writers share one group commit. The new version becomes visible to readers only once committed
 * (what a client was told is durable, and readers never see uncommitted state). Readers take the current
 * immutable {@link Device} without locking.
 */
public final class DeviceRegistry {
    private static final int STRIPES = 1024;
    /** Marks a device whose deletion is being committed. */
    private static final Device DELETED = new Device.Builder().build();

    private final DeviceStore store;
    /** A registry of modules (keys {@code deviceId/moduleId}) answers with the module error codes. */
    private final boolean modules;
    private final Clock clock;
    private final Map<String, Device> devices = new ConcurrentHashMap<>();
    /**
     * Every device id in key order, changed only inside {@code devices}' per-key atomic updates (so it never
     * disagrees with the map). Jobs walk their targets in this order: a batch of neighbouring ids touches
     * neighbouring store pages, and a million ids need no sorting when a job starts.
     */
    private final ConcurrentSkipListSet<String> idOrder = new ConcurrentSkipListSet<>();
    /** Latest staged (possibly not yet committed) version per device, while its commit is in flight. */
    private final Map<String, Device> staged = new ConcurrentHashMap<>();
    private final AtomicLong revisions = new AtomicLong();
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    private final List<Consumer<String>> removalListeners = new CopyOnWriteArrayList<>();

    public DeviceRegistry(DeviceStore store, Clock clock) {
        this.store = store;
        this.modules = store.holdsModules();
        this.clock = clock;
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
        store.loadAll(d -> {
            devices.put(d.id(), d);
            idOrder.add(d.id());
        });
    }

    public Clock clock() {
        return clock;
    }

    /** Called with a device id when the device is deleted or disabled (its connection must go). */
    public void onRemovedOrDisabled(Consumer<String> listener) {
        removalListeners.add(listener);
    }

    /** The committed device, or null. */
    public Device find(String id) {
        return id == null ? null : devices.get(id);
    }

    public Device get(String id) {
        Device d = find(id);
        if (d == null) {
            throw notFound(id);
        }
        return d;
    }

    public Collection<Device> all() {
        return Collections.unmodifiableCollection(devices.values());
    }

    /**
     * A snapshot of every twin document, as a random-access list (so queries can scan it on all cores);
     * each document is a lazily rendered, read-only view.
     */
    public List<JsonNode> twinDocuments() {
        return views(Arrays.asList(devices.values().toArray(new Device[0])));
    }

    /** As {@link #twinDocuments()}, in device id order. */
    public List<JsonNode> twinDocumentsInIdOrder() {
        List<Device> ordered = new ArrayList<>(devices.size());
        for (String id : idOrder) {
            Device d = devices.get(id);
            if (d != null) {
                ordered.add(d);
            }
        }
        return views(ordered);
    }

    /** Lazily rendered twin views over a fixed list of devices. */
    private static List<JsonNode> views(List<Device> snapshot) {
        return new TwinViews(snapshot);
    }

    /**
     * Random access, so that a parallel stream splits it in halves on all cores rather than copying it out
     * element by element through an iterator.
     */
    private static final class TwinViews extends AbstractList<JsonNode> implements RandomAccess {
        private final List<Device> snapshot;

        TwinViews(List<Device> snapshot) {
            this.snapshot = snapshot;
        }

        @Override
        public JsonNode get(int index) {
            return new TwinView(snapshot.get(index));
        }

        @Override
        public int size() {
            return snapshot.size();
        }
    }

    public int size() {
        return devices.size();
    }

    /** The committed entries whose key starts with {@code prefix} (a device's modules: "deviceId/"), in key order. */
    List<Device> findByPrefix(String prefix) {
        List<Device> found = new ArrayList<>();
        for (String id : idOrder.tailSet(prefix)) {
            if (!id.startsWith(prefix)) {
                break;
            }
            Device d = devices.get(id);
            if (d != null) {
                found.add(d);
            }
        }
        return found;
    }

    /** Tells the removal listeners that an entry's connection must go (e.g. a module whose device was disabled). */
    void announceRemovedOrDisabled(String id) {
        removalListeners.forEach(l -> l.accept(id));
    }

    /**
     * Registers a device with fixed keys unless its id is taken (the hub's default device, so the tutorial
     * runs with zero configuration).
     */
    public void ensureDevice(String id, String generationId, String primaryKey, String secondaryKey) {
        if (find(id) == null) {
            Device.Builder b = new Device.Builder();
            b.id = id;
            b.generationId = generationId;
            b.primaryKey = primaryKey;
            b.secondaryKey = secondaryKey;
            b.statusUpdatedTime = clock.instant();
            create(b.build());
        }
    }

    /** Adds a device that must not exist yet (409001 otherwise). */
    public Device create(Device device) {
        createAll(List.of(device));
        return device;
    }

    /** Adds new devices with one commit; fails as a whole (409001) if any already exists. */
    public void createAll(List<Device> newDevices) {
        List<String> ids = newDevices.stream().map(Device::id).toList();
        commit(lockedMany(ids, () -> {
            for (Device d : newDevices) {
                if (latest(d.id()) != null) {
                    throw modules
                            ? ErrorCode.MODULE_ALREADY_EXISTS.exception("Module '" + d.moduleId()
                                    + "' already exists on device '" + d.deviceId() + "'.")
                            : ErrorCode.DEVICE_ALREADY_EXISTS.exception("A device with ID '" + d.id() + "' is already registered.");
                }
            }
            return stage(newDevices, List.of());
        }));
    }

    /**
     * Applies {@code change} to the latest version of a device and commits the result.
     *
     * @throws HubException 404001 if the device does not exist
     */
    public Device update(String id, UnaryOperator<Device> change) {
        Device updated = commit(lockedMany(List.of(id), () -> {
            Device current = latest(id);
            if (current == null) {
                throw notFound(id);
            }
            return stage(List.of(change.apply(current)), List.of());
        })).get(0);
        if (!updated.enabled()) {
            removalListeners.forEach(l -> l.accept(id));
        }
        return updated;
    }

    /**
     * Applies {@code change} to each existing device of {@code ids} and commits all results at once, with
     * {@code extraWrites} (computed from the changed devices, e.g. the job records that say these devices are
     * done) in the same commit. Devices that no longer exist are skipped; their ids are added to
     * {@code missing}. Does not wait for the commit: the future completes (with the changed devices, now
     * visible) once the commit is done, so a caller can prepare the next batch meanwhile.
     */
    public CompletableFuture<List<Device>> updateManyAsync(Collection<String> ids, UnaryOperator<Device> change,
                                                           List<String> missing,
                                                           BatchWrites extraWrites) {
        Staged s = lockedMany(ids, () -> {
            List<Device> changed = new ArrayList<>(ids.size());
            for (String id : ids) {
                Device current = latest(id);
                if (current == null) {
                    missing.add(id);
                } else {
                    changed.add(change.apply(current));
                }
            }
            return stage(changed, extraWrites.forChanged(changed));
        });
        return s.committed().handle((ok, failure) -> {
            if (failure != null) {
                s.devices().forEach(d -> staged.remove(d.id(), d));
                throw Futures.rethrowable(failure);
            }
            s.publish().run();
            return s.devices();
        });
    }

    /** Deletes a device; {@code check} may veto (e.g. an etag precondition). */
    public void delete(String id, Consumer<Device> check) {
        Staged deletion = lockedMany(List.of(id), () -> {
            Device current = latest(id);
            if (current == null) {
                throw notFound(id);
            }
            check.accept(current);
            staged.put(id, DELETED);
            long revision = revisions.incrementAndGet();
            CompletableFuture<Void> done = store.commit(store.delete(id));
            return new Staged(List.of(), done, () -> {
                devices.computeIfPresent(id, (k, old) -> {
                    if (old.revision > revision) {
                        return old; // re-created meanwhile
                    }
                    idOrder.remove(k);
                    return null;
                });
                staged.remove(id, DELETED);
            });
        });
        commit(deletion);
        removalListeners.forEach(l -> l.accept(id));
    }

    /** A change handed to the store: its devices, its commit, and what to do once committed. */
    private record Staged(List<Device> devices, CompletableFuture<Void> committed, Runnable publish) {
    }

    /** The latest version of a device, staged or committed; null if it does not (or will not) exist. */
    private Device latest(String id) {
        Device s = staged.get(id);
        if (s == DELETED) {
            return null;
        }
        return s != null ? s : devices.get(id);
    }

    /** Under the locks: records the new versions as staged and submits them (with extras) to the store. */
    private Staged stage(List<Device> changed, List<HubStore.Write> extra) {
        List<HubStore.Write> writes = new ArrayList<>(changed.size() + extra.size());
        writes.addAll(extra);
        for (Device d : changed) {
            d.revision = revisions.incrementAndGet();
            staged.put(d.id(), d);
            writes.add(store.put(d));
        }
        CompletableFuture<Void> done = store.commit(writes);
        return new Staged(changed, done, () -> {
            for (Device d : changed) {
                devices.compute(d.id(), (k, old) -> {
                    if (old == null) {
                        idOrder.add(k);
                        return d;
                    }
                    return d.revision >= old.revision ? d : old;
                });
                staged.remove(d.id(), d);
            }
        });
    }

    /** Outside the locks: waits for the commit, then makes the new versions visible. */
    private List<Device> commit(Staged s) {
        try {
            s.committed().join();
        } catch (CompletionException e) {
            // Not committed: forget the staged versions so the next writer starts from the committed one.
            s.devices().forEach(d -> staged.remove(d.id(), d));
            throw Futures.rethrowable(e);
        }
        s.publish().run();
        return s.devices();
    }

    private <T> T lockedMany(Collection<String> ids, Supplier<T> action) {
        // Stripes are taken in ascending order, so two batches can never deadlock.
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

    private HubException notFound(String id) {
        if (modules) {
            int slash = id.indexOf('/');
            return ErrorCode.MODULE_NOT_FOUND.exception("Module " + id.substring(slash + 1) + " of device "
                    + id.substring(0, slash) + " not found.");
        }
        return ErrorCode.DEVICE_NOT_FOUND.exception("Device " + id + " not found.");
    }
}
