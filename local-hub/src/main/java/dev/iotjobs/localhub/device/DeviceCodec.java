package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;

/**
 * The durable form of a {@link Device}: one JSON document of its identity, twin and versions, with no
 * runtime state but the last activity time. Kept beside {@link DeviceStore} rather than in the model, so the
 * model can change shape without the stored format changing by accident.
 */
final class DeviceCodec {
    /** One growing buffer per thread, reset for each document: only the final copy is allocated. */
    private static final ThreadLocal<ByteArrayOutputStream> BUFFER =
            ThreadLocal.withInitial(() -> new ByteArrayOutputStream(1024));

    private static final Section SCOPES = new Section();
    private static final Section TAGS = new Section();
    private static final Section DESIRED = new Section();
    private static final Section REPORTED = new Section();

    private DeviceCodec() {
    }

    /**
     * The JSON of the last object written for one kind of section, remembered by identity. Devices share their
     * sections ({@link Interner}: a twin job gives each batch of a thousand devices the same tags and desired
     * objects), and stored sections are never changed in place, so each shared object is serialized once and its
     * bytes copied into every document (which stays byte for byte what serializing it each time writes).
     */
    private static final class Section {
        private record Encoded(JsonNode node, SerializedString json) {
        }

        private volatile Encoded last;

        SerializedString json(JsonNode node) throws IOException {
            Encoded e = last;
            if (e == null || e.node != node) {
                StringWriter out = new StringWriter();
                try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
                    Json.write(g, node);
                }
                e = new Encoded(node, new SerializedString(out.toString()));
                last = e;
            }
            return e.json;
        }
    }

    /** Written straight to bytes (a large twin job writes a million of these); absent values are left out. */
    static byte[] encode(Device d) {
        ByteArrayOutputStream out = BUFFER.get();
        out.reset();
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("id", d.id);
            writeIfPresent(g, "generationId", d.generationId);
            g.writeNumberField("etagCounter", d.etagCounter);
            g.writeBooleanField("enabled", d.enabled);
            writeIfPresent(g, "statusReason", d.statusReason);
            writeIfPresent(g, "statusUpdatedTime", d.statusUpdatedTime == null ? null : d.statusUpdatedTime.toString());
            writeIfPresent(g, "authType", d.authType);
            writeIfPresent(g, "primaryKey", d.primaryKey);
            writeIfPresent(g, "secondaryKey", d.secondaryKey);
            writeIfPresent(g, "primaryThumbprint", d.primaryThumbprint);
            writeIfPresent(g, "secondaryThumbprint", d.secondaryThumbprint);
            g.writeBooleanField("iotEdge", d.iotEdge);
            writeIfPresent(g, "deviceScope", d.deviceScope);
            g.writeFieldName("parentScopes");
            g.writeRawValue(SCOPES.json(d.parentScopes));
            writeIfPresent(g, "managedBy", d.managedBy);
            g.writeFieldName("tags");
            g.writeRawValue(TAGS.json(d.tags));
            g.writeFieldName("desired");
            g.writeRawValue(DESIRED.json(d.desired.document()));
            g.writeFieldName("reported");
            g.writeRawValue(REPORTED.json(d.reported.document()));
            g.writeNumberField("twinVersion", d.twinVersion);
            Instant last = d.runtime.lastActivityTime();
            writeIfPresent(g, "lastActivityTime", last == null ? null : last.toString());
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static void writeIfPresent(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }

    static Device decode(byte[] bytes) {
        ObjectNode n = Json.readStored(bytes);
        Device.Builder b = new Device.Builder();
        b.id = n.get("id").asText();
        b.generationId = Json.text(n, "generationId");
        b.etagCounter = n.get("etagCounter").asLong();
        b.enabled = n.get("enabled").asBoolean();
        b.statusReason = Json.text(n, "statusReason");
        String sut = Json.text(n, "statusUpdatedTime");
        b.statusUpdatedTime = sut == null ? null : Instant.parse(sut);
        b.authType = Json.text(n, "authType");
        b.primaryKey = Json.text(n, "primaryKey");
        b.secondaryKey = Json.text(n, "secondaryKey");
        b.primaryThumbprint = Json.text(n, "primaryThumbprint");
        b.secondaryThumbprint = Json.text(n, "secondaryThumbprint");
        b.iotEdge = n.path("iotEdge").asBoolean(false);
        b.deviceScope = Json.text(n, "deviceScope");
        JsonNode scopes = n.get("parentScopes");
        b.parentScopes = scopes instanceof ArrayNode a ? a : Json.NODES.arrayNode();
        b.managedBy = Json.text(n, "managedBy");
        b.tags = (ObjectNode) n.get("tags");
        b.desired = TwinSection.fromStored((ObjectNode) n.get("desired"), true);
        b.reported = TwinSection.fromStored((ObjectNode) n.get("reported"), false);
        b.twinVersion = n.get("twinVersion").asLong();
        String last = Json.text(n, "lastActivityTime");
        b.runtime = new DeviceRuntime(last == null ? null : Instant.parse(last));
        return new Device(b);
    }
}
