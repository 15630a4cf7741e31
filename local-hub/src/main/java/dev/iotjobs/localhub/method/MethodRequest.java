package dev.iotjobs.localhub.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Duration;

/**
 * A direct method invocation as IoT Hub accepts it: name, payload, response timeout (default 30 s,
 * 5..300) and connect timeout (default 0 = the device must be online, 0..300).
 */
public record MethodRequest(String methodName, JsonNode payload, Duration responseTimeout, Duration connectTimeout) {
    public static final int MAX_PAYLOAD_BYTES = 128 * 1024;

    public static MethodRequest fromJson(JsonNode body) {
        if (!(body instanceof ObjectNode o)) {
            throw ErrorCode.ARGUMENT_INVALID.exception("A method request must be a JSON object.");
        }
        String name = Json.text(o, "methodName");
        if (name == null || name.isBlank()) {
            throw ErrorCode.ARGUMENT_NULL.exception("methodName is required.");
        }
        if (name.contains("/") || name.contains("#") || name.contains("+")) {
            throw ErrorCode.ARGUMENT_INVALID.exception("methodName '" + name + "' contains '/', '#' or '+'.");
        }
        JsonNode payload = o.has("payload") ? o.get("payload") : Json.NODES.nullNode();
        if (Json.bytes(payload).length > MAX_PAYLOAD_BYTES) {
            throw ErrorCode.MESSAGE_TOO_LARGE.exception("The method payload is larger than 128 KB.");
        }
        int response = seconds(o, "responseTimeoutInSeconds", 30, 5, 300);
        int connect = seconds(o, "connectTimeoutInSeconds", 0, 0, 300);
        return new MethodRequest(name, payload, Duration.ofSeconds(response), Duration.ofSeconds(connect));
    }

    private static int seconds(ObjectNode o, String field, int dflt, int min, int max) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min || v.asInt() > max) {
            throw ErrorCode.ARGUMENT_INVALID.exception(field + " must be an integer from " + min + " to " + max + ".");
        }
        return v.asInt();
    }

    /** The echo jobs keep of their method ({@code cloudToDeviceMethod}). */
    public ObjectNode toJson() {
        ObjectNode n = Json.object();
        n.put("methodName", methodName);
        n.put("responseTimeoutInSeconds", responseTimeout.toSeconds());
        n.put("connectTimeoutInSeconds", connectTimeout.toSeconds());
        n.set("payload", payload);
        return n;
    }
}
