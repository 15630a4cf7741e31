package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Device twins: the service side (get, patch, replace tags and desired properties) and the device side
 * (get, patch reported properties). Every committed desired change is announced to the listeners.
 */
public final class TwinService {
    private final DeviceRegistry registry;
    private final List<DesiredPropertiesListener> listeners = new CopyOnWriteArrayList<>();

    public TwinService(DeviceRegistry registry) {
        this.registry = registry;
    }

    public void onDesiredChanged(DesiredPropertiesListener listener) {
        listeners.add(listener);
    }

    public ObjectNode get(String deviceId) {
        return DeviceDocuments.twin(registry.get(deviceId));
    }

    /** PATCH /twins/{id}: merges tags and desired properties. */
    public ObjectNode patch(String deviceId, ObjectNode body, String ifMatch) {
        TwinChange change = TwinChange.fromServiceBody(body, false);
        return write(deviceId, change, ifMatch);
    }

    /** PUT /twins/{id}: replaces tags and desired properties wholesale. */
    public ObjectNode replace(String deviceId, ObjectNode body, String ifMatch) {
        TwinChange change = TwinChange.fromServiceBody(body, true);
        return write(deviceId, change, ifMatch);
    }

    private ObjectNode write(String deviceId, TwinChange change, String ifMatch) {
        Instant now = registry.clock().instant();
        Device updated = registry.update(deviceId, current -> {
            Etags.check(ifMatch, current.twinEtag());
            return change.applyTo(current, now);
        });
        announce(updated, change);
        return DeviceDocuments.twin(updated);
    }

    /**
     * Applies one change to many devices with a single commit (used by twin jobs), together with
     * {@code extraWrites} computed from the updated devices (a twin job's batch record). The future completes after the commit, with
     * the ids of devices that no longer exist.
     *
     * @return ids of devices that no longer exist
     */
    public CompletableFuture<List<String>> patchMany(Collection<String> deviceIds, TwinChange change,
                                  BatchWrites extraWrites) {
        Instant now = registry.clock().instant();
        List<String> missing = new ArrayList<>();
        TwinChange.Memo memo = new TwinChange.Memo(); // the batch is changed on one thread, under its locks
        return registry.updateManyAsync(deviceIds, d -> change.applyTo(d, now, memo), missing, extraWrites)
                .thenApply(updated -> {
                    for (Device d : updated) {
                        announce(d, change);
                    }
                    return missing;
                });
    }

    /** What a device gets for {@code $iothub/twin/GET}: desired and reported with their versions. */
    public ObjectNode deviceGet(String deviceId) {
        return DeviceDocuments.deviceTwin(registry.get(deviceId));
    }

    /**
     * A device's reported-properties patch.
     *
     * @param expectedVersion the {@code $version} the device sent, or null
     * @return the new reported {@code $version}
     */
    public long patchReported(String deviceId, JsonNode patch, Long expectedVersion) {
        if (!(patch instanceof ObjectNode objectPatch)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("A reported-properties patch must be a JSON object.");
        }
        TwinRules.checkPatch("properties.reported", objectPatch);
        Instant now = registry.clock().instant();
        Device updated = registry.update(deviceId, current -> {
            if (expectedVersion != null && expectedVersion != current.reported().version()) {
                throw ErrorCode.PRECONDITION_FAILED.exception("Reported properties are at version "
                        + current.reported().version() + ", not " + expectedVersion + ".");
            }
            TwinSection reported = current.reported().merge(objectPatch, now);
            TwinRules.checkSize("properties.reported", reported.document(), TwinRules.MAX_PROPERTIES_BYTES);
            Device.Builder b = current.toBuilder();
            b.reported = reported;
            b.twinVersion = current.twinVersion() + 1;
            return b.build();
        });
        updated.runtime().activity(now);
        return updated.reported().version();
    }

    /** Tells the desired-property listeners of a change made outside this service (a bulk registry update). */
    void announceDesired(Device updated, TwinChange change) {
        announce(updated, change);
    }

    private void announce(Device updated, TwinChange change) {
        if (!change.touchesDesired()) {
            return;
        }
        for (DesiredPropertiesListener l : listeners) {
            l.desiredChanged(updated.id(), () -> change.desiredNotification(updated));
        }
    }
}
