package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.model.ErrorCode;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/** IoT Hub's twin limits: key syntax, nesting depth, value and section sizes. */
public final class TwinRules {
    public static final int MAX_DEPTH = 10;
    public static final int MAX_TAGS_BYTES = 8 * 1024;
    public static final int MAX_PROPERTIES_BYTES = 32 * 1024;
    private static final int MAX_KEY_BYTES = 1024;
    private static final int MAX_STRING_BYTES = 4 * 1024;
    private static final long MAX_SAFE_INTEGER = 4503599627370495L;

    private TwinRules() {
    }

    /** Checks a patch (or replacement) for one section before it is applied. */
    public static void checkPatch(String section, ObjectNode patch) {
        checkObject(section, patch, 1);
    }

    /** Checks the size of a section after a change (IoT Hub rejects writes that would exceed it). */
    public static void checkSize(String section, ObjectNode values, int limit) {
        long size = size(values);
        if (size > limit) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Twin " + section + " would be " + size
                    + " bytes, over the limit of " + limit + " bytes.");
        }
    }

    private static void checkObject(String path, ObjectNode node, int depth) {
        checkDepth(path, depth);
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            checkKey(path, e.getKey());
            checkValue(path + "." + e.getKey(), e.getValue(), depth);
        }
    }

    /**
     * A member's value one level below {@code depth}. An array is a level of its own, like an object, and
     * objects inside arrays follow the same key and depth rules (IoT Hub's depth limit covers arrays too).
     */
    private static void checkValue(String path, JsonNode value, int depth) {
        if (value.isObject()) {
            checkObject(path, (ObjectNode) value, depth + 1);
        } else if (value.isArray()) {
            checkDepth(path, depth + 1);
            int i = 0;
            for (JsonNode element : value) {
                checkValue(path + "[" + i++ + "]", element, depth + 1);
            }
        } else if (value.isTextual() && value.asText().getBytes(StandardCharsets.UTF_8).length > MAX_STRING_BYTES) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Twin " + path + " is a string over 4 KB.");
        } else if (value.isIntegralNumber() && !value.canConvertToLong()
                || value.isIntegralNumber() && Math.abs(value.asLong()) > MAX_SAFE_INTEGER) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Twin " + path + " is an integer outside +-2^52.");
        }
    }

    private static void checkDepth(String path, int depth) {
        if (depth > MAX_DEPTH) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Twin " + shorten(path) + " is nested deeper than "
                    + MAX_DEPTH + " levels.");
        }
    }

    private static String shorten(String path) {
        return path.length() <= 200 ? path : path.substring(0, 200) + "...";
    }

    private static void checkKey(String path, String key) {
        if (key.isEmpty() || key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Twin " + path + " has an empty or over-long key.");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c == '.' || c == '$' || c == ' ' || Character.isISOControl(c)) {
                throw ErrorCode.ARGUMENT_INVALID.exception("Twin key '" + key + "' in " + path
                        + " is invalid: keys may not contain '.', '$', spaces or control characters.");
            }
        }
    }

    /**
     * IoT Hub's size rule: keys and string values by length, numbers 8 bytes, booleans 4. Keys with a '$'
     * ({@code $metadata}, {@code $version}) are read-only bookkeeping and do not count.
     */
    static long size(JsonNode node) {
        long total = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().indexOf('$') >= 0) {
                continue;
            }
            total += e.getKey().length();
            JsonNode v = e.getValue();
            if (v.isObject()) {
                total += size(v);
            } else if (v.isTextual()) {
                total += v.asText().length();
            } else if (v.isNumber()) {
                total += 8;
            } else if (v.isBoolean()) {
                total += 4;
            } else if (v.isArray()) {
                total += v.toString().length();
            }
        }
        return total;
    }
}
