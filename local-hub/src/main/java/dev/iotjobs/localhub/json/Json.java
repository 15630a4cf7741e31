package dev.iotjobs.localhub.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.model.ErrorCode;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** One shared Jackson mapper and the few JSON helpers every layer needs. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** IoT Hub's timestamp form: 7 fractional digits, UTC, e.g. 2024-05-01T10:00:00.1234567Z. */
    private static final DateTimeFormatter HUB_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSS'Z'").withZone(ZoneOffset.UTC);
    /** The "never" timestamp IoT Hub uses for unset times. */
    public static final String NEVER = "0001-01-01T00:00:00Z";

    private Json() {
    }

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    /** The last formatted instant: a twin job stamps thousands of twins with the same time. */
    private static volatile Object[] lastTime = {Instant.EPOCH, HUB_TIME.format(Instant.EPOCH)};

    public static String time(Instant instant) {
        if (instant == null) {
            return NEVER;
        }
        Object[] last = lastTime;
        if (instant.equals(last[0])) {
            return (String) last[1];
        }
        String formatted = HUB_TIME.format(instant);
        lastTime = new Object[]{instant, formatted};
        return formatted;
    }

    /** Parses a request body; malformed JSON is the client's fault (400). */
    public static JsonNode parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw ErrorCode.ARGUMENT_NULL.exception("The request body is empty.");
        }
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw ErrorCode.IOTHUB_FORMAT_ERROR.exception("Malformed JSON: " + firstLine(e.getMessage()));
        }
    }

    /** Parses a request body that must be a JSON object. */
    public static ObjectNode parseObject(byte[] body) {
        JsonNode node = parse(body);
        if (!node.isObject()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("The request body must be a JSON object.");
        }
        return (ObjectNode) node;
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes a tree straight to a generator. {@code JsonGenerator.writeTree} goes through the mapper and sets
     * up a serializer provider per call, which dominates when a twin job stores a million small documents.
     */
    public static void write(JsonGenerator g, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (var it = node.fields(); it.hasNext(); ) {
                    var field = it.next();
                    g.writeFieldName(field.getKey());
                    write(g, field.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode element : node) {
                    write(g, element);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(node.textValue());
            case BOOLEAN -> g.writeBoolean(node.booleanValue());
            case NULL, MISSING -> g.writeNull();
            case NUMBER -> {
                switch (node.numberType()) {
                    case INT -> g.writeNumber(node.intValue());
                    case LONG -> g.writeNumber(node.longValue());
                    case BIG_INTEGER -> g.writeNumber(node.bigIntegerValue());
                    case FLOAT -> g.writeNumber(node.floatValue());
                    case DOUBLE -> g.writeNumber(node.doubleValue());
                    case BIG_DECIMAL -> g.writeNumber(node.decimalValue());
                }
            }
            default -> g.writeTree(node); // binary and POJO nodes: never in twins, kept correct anyway
        }
    }

    public static String string(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a stored document (our own bytes: a failure is a bug, not bad input). */
    public static ObjectNode readStored(byte[] bytes) {
        try {
            return (ObjectNode) MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalStateException("Corrupt stored document", e);
        }
    }

    /** Reads a stored JSON array (our own bytes). */
    public static ArrayNode readStoredArray(byte[] bytes) {
        try {
            return (ArrayNode) MAPPER.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalStateException("Corrupt stored document", e);
        }
    }

    public static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }

}
