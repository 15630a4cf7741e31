package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.x509.X509Checks;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** Identity registry operations: create, read, update, delete devices, and statistics. */
public final class RegistryService {
    /** IoT Hub device ids: up to 128 ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ $ ' */
    private static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9\\-:.+%_#*?!(),=@$']{1,128}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DeviceRegistry registry;
    /** Device twins, told of desired properties a bulk update changes; null in unit tests without devices online. */
    private final TwinService twins;
    /** Module entries of bulk requests; null for a registry without modules (some unit tests). */
    private final ModuleService modules;

    public RegistryService(DeviceRegistry registry) {
        this(registry, null, null);
    }

    public RegistryService(DeviceRegistry registry, TwinService twins, ModuleService modules) {
        this.registry = registry;
        this.twins = twins;
        this.modules = modules;
    }

    public static void validateDeviceId(String id) {
        if (id == null || !DEVICE_ID.matcher(id).matches()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Device ID '" + id + "' is invalid: use 1 to 128 ASCII "
                    + "letters, digits or - : . + % _ # * ? ! ( ) , = @ $ '.");
        }
    }

    /** GET /devices/{id}: the identity document. */
    public ObjectNode get(String id) {
        return DeviceDocuments.identity(registry.get(id));
    }

    /**
     * PUT /devices/{id}: creates the device, or with {@code If-Match} replaces its identity properties.
     * Without If-Match an existing id is a conflict (409001); a stale etag is 412001.
     */
    public ObjectNode put(String pathId, ObjectNode body, String ifMatch) {
        return DeviceDocuments.identity(createOrReplace(pathId, body, ifMatch));
    }

    private Device createOrReplace(String pathId, ObjectNode body, String ifMatch) {
        validateDeviceId(pathId);
        String bodyId = Json.text(body, "deviceId");
        if (bodyId != null && !bodyId.equals(pathId)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The deviceId in the body ('" + bodyId
                    + "') does not match the one in the URL ('" + pathId + "').");
        }
        if (ifMatch == null) {
            return registry.create(fromBody(new Device.Builder(), pathId, body).build());
        }
        return registry.update(pathId, current -> {
            Etags.check(ifMatch, current.etag());
            Device.Builder b = fromBody(current.toBuilder(), pathId, body);
            b.etagCounter = current.etagCounter + 1;
            return b.build();
        });
    }

    /** Builds a new device for a bulk create (validation as for PUT). */
    public Device newDevice(ObjectNode body) {
        String id = Json.text(body, "deviceId");
        validateDeviceId(id);
        return fromBody(new Device.Builder(), id, body).build();
    }

    /** IoT Hub accepts at most this many devices in one bulk registry request. */
    public static final int MAX_BULK_DEVICES = 100;

    /**
     * {@code POST /devices}: the bulk registry operation ("Bulk Registry - Update Registry") over ExportImportDevice
     * entries ({@code id}, {@code moduleId}, {@code eTag}, {@code importMode}, {@code status}, {@code authentication},
     * {@code tags}, {@code properties.desired}). An entry with a {@code moduleId} is a module of device {@code id}
     * (its device must exist before the request). Every {@link ImportMode} is supported, for devices and modules.
     * Entries are processed one by one as in IoT Hub: the valid ones are applied (device creates together, in one
     * commit) and each failure is listed in {@code errors} with IoT Hub's error code name. The result's
     * {@code isSuccessful} is false when an entry failed; IoT Hub then answers 400 (see {@link #failed}).
     * A body that is not an array of at most 100 objects is refused as a whole (400004).
     */
    public ObjectNode bulk(JsonNode body) {
        if (!(body instanceof ArrayNode entries)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("A bulk registry request must be a JSON array of ExportImportDevice "
                    + "objects, e.g. [{\"id\":\"d1\",\"importMode\":\"create\"}].");
        }
        if (entries.size() > MAX_BULK_DEVICES) {
            throw ErrorCode.ARGUMENT_INVALID.exception("A bulk registry request may hold at most "
                    + MAX_BULK_DEVICES + " devices, not " + entries.size() + ".");
        }
        for (int i = 0; i < entries.size(); i++) {
            if (!entries.get(i).isObject()) {
                throw ErrorCode.ARGUMENT_INVALID.exception("Entry " + i + " of the bulk registry request is "
                        + entries.get(i).getNodeType().toString().toLowerCase(Locale.ROOT)
                        + ", not an ExportImportDevice object.");
            }
        }
        ArrayNode errors = Json.NODES.arrayNode();
        List<Device> creates = new ArrayList<>();
        // One instant for the whole request: its devices share their creation and status times, and with them
        // their empty twin sections (a million bulk-created twins would otherwise each hold their own).
        Instant now = registry.clock().instant();
        Set<String> seen = new HashSet<>();
        Set<String> creating = new HashSet<>();
        for (JsonNode entry : entries) {
            ObjectNode e = (ObjectNode) entry;
            String id = e.path("id").isTextual() ? e.get("id").asText() : null;
            String moduleId = e.path("moduleId").isTextual() ? e.get("moduleId").asText() : null;
            try {
                requireEntryTypes(e);
                validateDeviceId(id);
                ImportMode mode = ImportMode.parse(Json.text(e, "importMode"));
                String eTag = mode.checksETag() ? Json.text(e, "eTag")
                        : mode == ImportMode.UPDATE_TWIN_IF_MATCH_ETAG ? Json.text(e, "twinETag") : null;
                if (moduleId != null) {
                    if (!seen.add(ModuleIds.key(id, moduleId))) {
                        throw ErrorCode.DEVICE_DEFINED_MULTIPLE_TIMES.exception("Module " + moduleId + " of device " + id
                                + " appears more than once in the request.");
                    }
                    if (modules == null) {
                        throw ErrorCode.ARGUMENT_INVALID.exception("This registry serves no modules.");
                    }
                    if (creating.contains(id)) {
                        // IoT Hub applies module entries to devices that exist before the request.
                        throw ErrorCode.DEVICE_NOT_FOUND.exception("Device " + id + " is created by this request; "
                                + "create its modules in a later request.");
                    }
                    modules.bulkEntry(id, moduleId, mode, eTag, e);
                    continue;
                }
                if (!seen.add(id)) {
                    throw ErrorCode.DEVICE_DEFINED_MULTIPLE_TIMES.exception("Device " + id
                            + " appears more than once in the request.");
                }
                Device current = registry.find(id);
                switch (mode) {
                    case CREATE, CREATE_OR_UPDATE, CREATE_OR_UPDATE_IF_MATCH_ETAG -> {
                        if (current == null) {
                            creates.add(bulkDevice(id, e, now));
                            creating.add(id);
                        } else if (mode == ImportMode.CREATE) {
                            throw ErrorCode.DEVICE_ALREADY_EXISTS.exception("A device with ID '" + id + "' is already registered.");
                        } else {
                            bulkUpdate(id, e, requireETag(mode, eTag, id), now);
                        }
                    }
                    case UPDATE, UPDATE_IF_MATCH_ETAG -> bulkUpdate(id, e, requireETag(mode, eTag, id), now);
                    case DELETE, DELETE_IF_MATCH_ETAG -> delete(id, requireETag(mode, eTag, id));
                    case UPDATE_TWIN, UPDATE_TWIN_IF_MATCH_ETAG -> bulkUpdateTwin(id, e, requireETag(mode, eTag, id), now);
                }
            } catch (HubException ex) {
                ObjectNode error = errors.addObject();
                error.put("deviceId", id);
                if (moduleId != null) {
                    error.put("moduleId", moduleId);
                }
                error.put("errorCode", ex.errorCode().codeName());
                error.put("errorStatus", ex.getMessage());
            }
        }
        try {
            registry.createAll(creates);
        } catch (HubException ex) {
            // A device created meanwhile by another request: each create is retried alone, so only it fails.
            for (Device d : creates) {
                try {
                    registry.create(d);
                } catch (HubException one) {
                    ObjectNode error = errors.addObject();
                    error.put("deviceId", d.id());
                    error.put("errorCode", one.errorCode().codeName());
                    error.put("errorStatus", one.getMessage());
                }
            }
        }
        ObjectNode result = Json.object();
        result.put("isSuccessful", errors.isEmpty());
        result.set("errors", errors);
        result.set("warnings", Json.NODES.arrayNode());
        return result;
    }

    /**
     * Whether a {@link #bulk} result reports a failed entry: IoT Hub then answers 400 with the same body and
     * {@code iothub-errorcode: BulkRegistryOperationFailure} (the service SDKs read the body rather than throw).
     */
    public static boolean failed(ObjectNode bulkResult) {
        return !bulkResult.path("isSuccessful").asBoolean(false);
    }

    /** The identity fields of an ExportImportDevice entry, as a device body. */
    private static ObjectNode identityOf(String id, ObjectNode e) {
        ObjectNode identity = Json.object();
        identity.put("deviceId", id);
        for (String field : new String[]{"status", "statusReason", "authentication", "capabilities", "deviceScope",
                "parentScopes"}) {
            if (e.has(field)) {
                identity.set(field, e.get(field));
            }
        }
        return identity;
    }

    private Device bulkDevice(String id, ObjectNode e, Instant now) {
        Device.Builder b = fromBody(new Device.Builder(), id, identityOf(id, e));
        b.statusUpdatedTime = now; // created with the request, whatever its status
        TwinChange twin = TwinChange.fromServiceBody(e, false);
        return twin.applyTo(b.build(), now);
    }

    /** An update entry: replaces the identity (as PUT with If-Match) and merges the twin fields it carries. */
    private void bulkUpdate(String id, ObjectNode e, String eTag, Instant now) {
        ObjectNode identity = identityOf(id, e);
        TwinChange twin = TwinChange.fromServiceBody(e, false);
        // A disabled device's connections (and its modules') are closed by the registry's listeners.
        Device updated = registry.update(id, current -> {
            Etags.check(eTag, current.etag());
            Device.Builder b = fromBody(current.toBuilder(), id, identity);
            b.etagCounter = current.etagCounter + 1;
            return twin.applyTo(b.build(), now);
        });
        if (twins != null && twin.touchesDesired()) {
            twins.announceDesired(updated, twin);
        }
    }

    /** An updateTwin entry: merges the entry's tags and desired properties into the twin ({@code twinETag} checked). */
    private void bulkUpdateTwin(String id, ObjectNode e, String twinETag, Instant now) {
        TwinChange twin = TwinChange.fromServiceBody(e, false);
        Device updated = registry.update(id, current -> {
            Etags.check(twinETag, current.twinEtag());
            return twin.applyTo(current, now);
        });
        if (twins != null && twin.touchesDesired()) {
            twins.announceDesired(updated, twin);
        }
    }

    /** The eTag an *IfMatchETag entry must carry to change an existing identity (412001 without one). */
    static String requireETag(ImportMode mode, String eTag, String what) {
        boolean needed = mode.checksETag() || mode == ImportMode.UPDATE_TWIN_IF_MATCH_ETAG;
        if (needed && (eTag == null || eTag.isEmpty())) {
            throw ErrorCode.PRECONDITION_FAILED.exception("importMode " + mode.wireName() + " needs the "
                    + (mode.twinOnly() ? "twinETag" : "eTag") + " of " + what + " (or use a mode that ignores it).");
        }
        return eTag;
    }

    /** Field types of an entry beyond the identity's (checked by {@link #fromBody}). */
    private static void requireEntryTypes(ObjectNode e) {
        for (String field : new String[]{"id", "moduleId", "eTag", "twinETag", "importMode"}) {
            requireType(e, field, JsonNode::isTextual, "a string");
        }
        if (!e.hasNonNull("id")) {
            throw ErrorCode.ARGUMENT_NULL.exception("Each entry needs the device's 'id'.");
        }
    }

    public void delete(String id, String ifMatch) {
        registry.delete(id, current -> Etags.check(ifMatch, current.etag()));
    }

    public ObjectNode statistics() {
        long enabled = registry.all().stream().filter(Device::enabled).count();
        ObjectNode n = Json.object();
        n.put("totalDeviceCount", registry.size());
        n.put("enabledDeviceCount", enabled);
        // iot-service-client 2.1.9 reads this misspelt key; sending both keeps every client right.
        n.put("enableDeviceCount", enabled);
        n.put("disabledDeviceCount", registry.size() - enabled);
        return n;
    }

    private Device.Builder fromBody(Device.Builder b, String id, ObjectNode body) {
        b.id = id;
        if (b.generationId == null) {
            b.generationId = Long.toString(System.nanoTime() & 0x7fffffffffffL);
        }
        requireTypes(body);
        String status = Json.text(body, "status");
        boolean enabled = status == null || parseStatus(status);
        if (b.statusUpdatedTime == null || enabled != b.enabled) {
            b.statusUpdatedTime = registry.clock().instant();
        }
        b.enabled = enabled;
        b.statusReason = Json.text(body, "statusReason");
        JsonNode capabilities = body.path("capabilities");
        b.iotEdge = capabilities.path("iotEdge").asBoolean(false);
        b.deviceScope = Json.text(body, "deviceScope");
        if (b.iotEdge && b.deviceScope == null) {
            b.deviceScope = "ms-azure-iot-edge://" + id + "-" + b.generationId;
        }
        ArrayNode scopes = body.get("parentScopes") instanceof ArrayNode a ? a.deepCopy() : Json.NODES.arrayNode();
        if (b.deviceScope != null && !b.iotEdge && scopes.isEmpty()) {
            scopes.add(b.deviceScope);
        }
        b.parentScopes = scopes.isEmpty() ? Device.NO_SCOPES : scopes;
        applyAuthentication(b, body.path("authentication"));
        return b;
    }

    private static boolean parseStatus(String status) {
        return switch (status.toLowerCase(Locale.ROOT)) {
            case "enabled" -> true;
            case "disabled" -> false;
            default -> throw ErrorCode.ARGUMENT_INVALID.exception("Device status '" + status
                    + "' is invalid: use enabled or disabled.");
        };
    }

    static void applyAuthentication(Device.Builder b, JsonNode auth) {
        String type = auth.isObject() && auth.hasNonNull("type") ? auth.get("type").asText() : "sas";
        switch (type) {
            case "sas" -> {
                JsonNode keys = auth.path("symmetricKey");
                b.authType = "sas";
                b.primaryKey = keyOrNew(Json.text(keys, "primaryKey"), "primaryKey");
                b.secondaryKey = keyOrNew(Json.text(keys, "secondaryKey"), "secondaryKey");
                b.primaryThumbprint = null;
                b.secondaryThumbprint = null;
            }
            case "selfSigned" -> {
                JsonNode thumbs = auth.path("x509Thumbprint");
                b.authType = "selfSigned";
                b.primaryThumbprint = Json.text(thumbs, "primaryThumbprint");
                b.secondaryThumbprint = Json.text(thumbs, "secondaryThumbprint");
                if (b.primaryThumbprint == null) {
                    throw ErrorCode.ARGUMENT_INVALID.exception("A selfSigned device needs a primaryThumbprint.");
                }
                for (String t : new String[]{b.primaryThumbprint, b.secondaryThumbprint}) {
                    if (t != null && !X509Checks.isThumbprint(t)) {
                        throw ErrorCode.ARGUMENT_INVALID.exception("Thumbprint '" + t
                                + "' is invalid: use the 40 (SHA-1) or 64 (SHA-256) hexadecimal digits of the certificate's digest.");
                    }
                }
                b.primaryKey = null;
                b.secondaryKey = null;
            }
            case "certificateAuthority", "none" -> {
                b.authType = type;
                b.primaryKey = null;
                b.secondaryKey = null;
            }
            default -> throw ErrorCode.ARGUMENT_INVALID.exception("Authentication type '" + type + "' is invalid.");
        }
    }

    /**
     * Rejects fields of the wrong JSON type (IoT Hub answers 400 rather than guessing, e.g. for
     * {@code "iotEdge":"yes"} or {@code "authentication":"sas"}); JSON null counts as absent.
     */
    private static void requireTypes(ObjectNode body) {
        for (String field : new String[]{"deviceId", "status", "statusReason", "deviceScope"}) {
            requireType(body, field, JsonNode::isTextual, "a string");
        }
        requireType(body, "capabilities", JsonNode::isObject, "an object");
        requireType(body.path("capabilities"), "iotEdge", JsonNode::isBoolean, "a boolean");
        requireType(body, "parentScopes", JsonNode::isArray, "an array");
        requireType(body, "authentication", JsonNode::isObject, "an object");
        JsonNode auth = body.path("authentication");
        requireType(auth, "type", JsonNode::isTextual, "a string");
        requireType(auth, "symmetricKey", JsonNode::isObject, "an object");
        requireType(auth, "x509Thumbprint", JsonNode::isObject, "an object");
        for (String key : new String[]{"primaryKey", "secondaryKey"}) {
            requireType(auth.path("symmetricKey"), key, JsonNode::isTextual, "a string");
        }
        for (String thumb : new String[]{"primaryThumbprint", "secondaryThumbprint"}) {
            requireType(auth.path("x509Thumbprint"), thumb, JsonNode::isTextual, "a string");
        }
    }

    private static void requireType(JsonNode parent, String field, Predicate<JsonNode> ok,
                                    String expected) {
        JsonNode value = parent.get(field);
        if (value != null && !value.isNull() && !ok.test(value)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Device field '" + field + "' must be " + expected + ".");
        }
    }

    /** Symmetric keys must be base64 of 16 to 64 bytes; absent keys are generated (32 random bytes). */
    private static String keyOrNew(String key, String name) {
        if (key == null || key.isEmpty()) {
            byte[] bytes = new byte[32];
            RANDOM.nextBytes(bytes);
            return Base64.getEncoder().encodeToString(bytes);
        }
        try {
            int length = Base64.getDecoder().decode(key).length;
            if (length >= 16 && length <= 64) {
                return key;
            }
        } catch (IllegalArgumentException ignored) {
            // falls through to the error below
        }
        throw ErrorCode.ARGUMENT_INVALID.exception("The " + name
                + " is invalid: a symmetric key must be base64 of 16 to 64 bytes.");
    }
}
