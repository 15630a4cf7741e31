package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;

import java.time.Instant;
import java.util.List;

/**
 * Module identities and module twins: {@code /devices/{id}/modules/...} and
 * {@code /twins/{id}/modules/...}. A module lives in its own {@link DeviceRegistry} (see {@link ModuleIds});
 * its twin follows the device-twin rules through a {@link TwinService} over that registry. An unknown device
 * is 404001, an unknown module of an existing device 404010, a duplicate module 409301 (IoT Hub's codes).
 * Deleting a device deletes its modules ({@link #deviceRemovedOrDisabled}).
 */
public final class ModuleService {
    private final DeviceRegistry devices;
    private final DeviceRegistry modules;
    private final TwinService twins;

    public ModuleService(DeviceRegistry devices, DeviceRegistry modules, TwinService moduleTwins) {
        this.devices = devices;
        this.modules = modules;
        this.twins = moduleTwins;
    }

    /** GET /devices/{id}/modules/{moduleId}. */
    public ObjectNode get(String deviceId, String moduleId) {
        return ModuleDocuments.identity(module(deviceId, moduleId));
    }

    /** GET /devices/{id}/modules: every module of the device, in module id order. */
    public ArrayNode list(String deviceId) {
        devices.get(deviceId);
        ArrayNode array = Json.NODES.arrayNode();
        for (Device m : modules.findByPrefix(ModuleIds.prefixOf(deviceId))) {
            array.add(ModuleDocuments.identity(m));
        }
        return array;
    }

    /**
     * PUT /devices/{id}/modules/{moduleId}: creates the module (409301 if it exists), or with {@code If-Match}
     * replaces its authentication and {@code managedBy} (412001 on a stale etag, 404010 if absent).
     */
    public ObjectNode put(String deviceId, String moduleId, ObjectNode body, String ifMatch) {
        ModuleIds.validate(moduleId);
        requireMatching(body, "moduleId", moduleId);
        requireMatching(body, "deviceId", deviceId);
        requireTypes(body);
        devices.get(deviceId);
        String key = ModuleIds.key(deviceId, moduleId);
        if (ifMatch != null) {
            return ModuleDocuments.identity(modules.update(key, current -> {
                Etags.check(ifMatch, current.etag());
                Device.Builder b = fromBody(current.toBuilder(), body);
                b.etagCounter = current.etagCounter + 1;
                return b.build();
            }));
        }
        Device.Builder b = new Device.Builder();
        b.id = key;
        b.generationId = Long.toString(System.nanoTime() & 0x7fffffffffffL);
        b.statusUpdatedTime = modules.clock().instant();
        Device created = modules.create(fromBody(b, body).build());
        if (devices.find(deviceId) == null) {
            // The device was deleted while its module was being added: the module goes with it.
            deleteQuietly(key);
            throw deviceNotFound(deviceId);
        }
        return ModuleDocuments.identity(created);
    }

    /**
     * One module entry of a bulk registry request ({@link RegistryService#bulk}): the device must exist (404001);
     * creates answer 409301 for an existing module, updates and deletes 404010 for an absent one and 412001 for
     * a stale {@code eTag} ({@code twinETag} for updateTwinIfMatchETag). The entry's {@code authentication} is the
     * module's (keys generated when absent); its {@code tags} and {@code properties.desired} are merged into the
     * module twin (updateTwin changes only those).
     */
    void bulkEntry(String deviceId, String moduleId, ImportMode mode, String eTag, ObjectNode entry) {
        ModuleIds.validate(moduleId);
        devices.get(deviceId);
        String key = ModuleIds.key(deviceId, moduleId);
        ObjectNode body = Json.object();
        if (entry.has("authentication")) {
            body.set("authentication", entry.get("authentication"));
        }
        requireTypes(body);
        TwinChange twin = TwinChange.fromServiceBody(entry, false);
        if (mode.twinOnly()) {
            String twinETag = RegistryService.requireETag(mode, eTag, "module " + key);
            Instant now = modules.clock().instant();
            Device updated = modules.update(key, m -> {
                Etags.check(twinETag, m.twinEtag());
                return twin.applyTo(m, now);
            });
            if (twin.touchesDesired()) {
                twins.announceDesired(updated, twin);
            }
            return;
        }
        if (mode.deletes()) {
            modules.delete(key, current -> Etags.check(RegistryService.requireETag(mode, eTag, "module " + key),
                    current.etag()));
            return;
        }
        Device current = modules.find(key);
        if (current == null && mode.creates()) {
            Instant now = modules.clock().instant();
            Device.Builder b = new Device.Builder();
            b.id = key;
            b.generationId = Long.toString(System.nanoTime() & 0x7fffffffffffL);
            b.statusUpdatedTime = now;
            modules.create(twin.applyTo(fromBody(b, body).build(), now));
            if (devices.find(deviceId) == null) {
                deleteQuietly(key); // the device was deleted meanwhile: its module goes with it
                throw deviceNotFound(deviceId);
            }
            return;
        }
        if (mode == ImportMode.CREATE) {
            throw ErrorCode.MODULE_ALREADY_EXISTS.exception("Module '" + moduleId + "' already exists on device '"
                    + deviceId + "'.");
        }
        String ifMatch = RegistryService.requireETag(mode, eTag, "module " + key);
        Instant now = modules.clock().instant();
        Device updated = modules.update(key, m -> {
            Etags.check(ifMatch, m.etag());
            Device.Builder b = m.toBuilder();
            RegistryService.applyAuthentication(b, body.path("authentication"));
            b.etagCounter = m.etagCounter + 1;
            return twin.applyTo(b.build(), now);
        });
        if (twin.touchesDesired()) {
            twins.announceDesired(updated, twin);
        }
    }

    /** DELETE /devices/{id}/modules/{moduleId} (+ If-Match). */
    public void delete(String deviceId, String moduleId, String ifMatch) {
        devices.get(deviceId);
        modules.delete(ModuleIds.key(deviceId, moduleId), current -> Etags.check(ifMatch, current.etag()));
    }

    /** GET /twins/{id}/modules/{moduleId}. */
    public ObjectNode getTwin(String deviceId, String moduleId) {
        devices.get(deviceId);
        return twins.get(ModuleIds.key(deviceId, moduleId));
    }

    /** PATCH /twins/{id}/modules/{moduleId}: merges tags and desired properties, as for a device twin. */
    public ObjectNode patchTwin(String deviceId, String moduleId, ObjectNode body, String ifMatch) {
        devices.get(deviceId);
        return twins.patch(ModuleIds.key(deviceId, moduleId), body, ifMatch);
    }

    /** PUT /twins/{id}/modules/{moduleId}: replaces tags and desired properties, as for a device twin. */
    public ObjectNode replaceTwin(String deviceId, String moduleId, ObjectNode body, String ifMatch) {
        devices.get(deviceId);
        return twins.replace(ModuleIds.key(deviceId, moduleId), body, ifMatch);
    }

    /** A module, or null (a device's and a module's absence look the same here). */
    public Device find(String deviceId, String moduleId) {
        return devices.find(deviceId) == null ? null : modules.find(ModuleIds.key(deviceId, moduleId));
    }

    /**
     * Listener of the device registry: a deleted device's modules are deleted; a disabled device's module
     * connections are closed (its modules cannot connect while it is disabled, see ModuleAuthenticator).
     */
    public void deviceRemovedOrDisabled(String deviceId) {
        Device device = devices.find(deviceId);
        for (Device m : modules.findByPrefix(ModuleIds.prefixOf(deviceId))) {
            if (device == null) {
                deleteQuietly(m.id());
            } else if (!device.enabled()) {
                modules.announceRemovedOrDisabled(m.id());
            }
        }
    }

    /** Deletes modules whose device no longer exists (left by a stop between the two deletions); returns how many. */
    public int deleteOrphans() {
        List<String> orphans = modules.all().stream().map(Device::id)
                .filter(key -> devices.find(key.substring(0, key.indexOf('/'))) == null).toList();
        orphans.forEach(this::deleteQuietly);
        return orphans.size();
    }

    private void deleteQuietly(String key) {
        try {
            modules.delete(key, m -> { });
        } catch (HubException e) {
            // already gone
        }
    }

    private Device module(String deviceId, String moduleId) {
        devices.get(deviceId);
        return modules.get(ModuleIds.key(deviceId, moduleId));
    }

    private static HubException deviceNotFound(String deviceId) {
        return ErrorCode.DEVICE_NOT_FOUND.exception("Device " + deviceId + " not found.");
    }

    private static Device.Builder fromBody(Device.Builder b, ObjectNode body) {
        b.managedBy = Json.text(body, "managedBy");
        RegistryService.applyAuthentication(b, body.path("authentication"));
        return b;
    }

    private static void requireMatching(ObjectNode body, String field, String pathValue) {
        JsonNode value = body.get(field);
        if (value != null && !value.isNull() && !(value.isTextual() && value.asText().equals(pathValue))) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The " + field + " in the body (" + value
                    + ") does not match the one in the URL ('" + pathValue + "').");
        }
    }

    private static void requireTypes(ObjectNode body) {
        JsonNode managedBy = body.get("managedBy");
        if (managedBy != null && !managedBy.isNull() && !managedBy.isTextual()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Module field 'managedBy' must be a string.");
        }
        JsonNode auth = body.get("authentication");
        if (auth != null && !auth.isNull() && !auth.isObject()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Module field 'authentication' must be an object.");
        }
        JsonNode keys = body.path("authentication").get("symmetricKey");
        if (keys != null && !keys.isNull() && !keys.isObject()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Module field 'symmetricKey' must be an object.");
        }
    }
}
