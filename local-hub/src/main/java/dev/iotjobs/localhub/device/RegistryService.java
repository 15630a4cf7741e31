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

    public RegistryService(DeviceRegistry registry) {
        this.registry = registry;
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
     * {@code POST /devices}: bulk registry operation over ExportImportDevice entries
     * ({@code id}, {@code importMode}, {@code status}, {@code authentication}, {@code tags},
     * {@code properties.desired}). Supported modes: create and delete. Devices are processed one by one as
     * in IoT Hub: the valid ones are committed (creates together, in one commit) and each failure is listed.
     */
    public ObjectNode bulk(JsonNode body) {
        if (!(body instanceof ArrayNode entries)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("A bulk registry request must be a JSON array of devices.");
        }
        if (entries.size() > MAX_BULK_DEVICES) {
            throw ErrorCode.ARGUMENT_INVALID.exception("A bulk registry request may hold at most "
                    + MAX_BULK_DEVICES + " devices, not " + entries.size() + ".");
        }
        ArrayNode errors = Json.NODES.arrayNode();
        List<Device> creates = new ArrayList<>();
        // One instant for the whole request: its devices share their creation and status times, and with them
        // their empty twin sections (a million bulk-created twins would otherwise each hold their own).
        Instant now = registry.clock().instant();
        Set<String> seen = new HashSet<>();
        for (JsonNode entry : entries) {
            String id = Json.text(entry, "id");
            try {
                if (!(entry instanceof ObjectNode e)) {
                    throw ErrorCode.ARGUMENT_INVALID.exception("Each entry must be a JSON object.");
                }
                validateDeviceId(id);
                if (!seen.add(id)) {
                    throw ErrorCode.ARGUMENT_INVALID.exception("Device " + id + " appears twice in the request.");
                }
                String mode = e.path("importMode").asText("create");
                switch (mode) {
                    case "create" -> {
                        if (registry.find(id) != null) {
                            throw ErrorCode.DEVICE_ALREADY_EXISTS.exception("A device with ID '" + id + "' is already registered.");
                        }
                        creates.add(bulkDevice(id, e, now));
                    }
                    case "delete" -> delete(id, Json.text(e, "eTag"));
                    default -> throw ErrorCode.ARGUMENT_INVALID.exception("importMode '" + mode
                            + "' is not supported by the local hub (use create or delete).");
                }
            } catch (HubException ex) {
                ObjectNode error = errors.addObject();
                error.put("deviceId", id);
                error.put("errorCode", ex.errorCode().codeName());
                error.put("errorStatus", ex.getMessage());
            }
        }
        registry.createAll(creates);
        ObjectNode result = Json.object();
        result.put("isSuccessful", errors.isEmpty());
        result.set("errors", errors);
        result.set("warnings", Json.NODES.arrayNode());
        return result;
    }

    private Device bulkDevice(String id, ObjectNode e, Instant now) {
        ObjectNode identity = Json.object();
        identity.put("deviceId", id);
        if (e.has("status")) {
            identity.set("status", e.get("status"));
        }
        if (e.has("authentication")) {
            identity.set("authentication", e.get("authentication"));
        }
        Device.Builder b = fromBody(new Device.Builder(), id, identity);
        b.statusUpdatedTime = now; // created with the request, whatever its status
        TwinChange twin = TwinChange.fromServiceBody(e, false);
        return twin.applyTo(b.build(), now);
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
