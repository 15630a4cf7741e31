package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;

/**
 * The durable form of a {@link Device}: one JSON document of its identity, twin and versions, with no
 * runtime state but the last activity time. Kept beside {@link DeviceStore} rather than in the model, so the
 * model can change shape without the stored format changing by accident.
 */
final class DeviceCodec {
    /**
     * One writer per thread, used for every document the thread writes: its buffer, reset for each document (only
     * the final copy is allocated), its generator, whose contexts Jackson reuses from one document to the next, and
     * the last time it wrote as text. A twin job writes a million documents: in an allocation profile of one, a
     * generator per document (with its contexts) took about 280 MB and the times' text about 250 MB, next to
     * 780 MB for the documents themselves.
     */
    private static final ThreadLocal<Writer> WRITER = ThreadLocal.withInitial(Writer::new);

    private static final int SCOPES = 0;
    private static final int TAGS = 1;
    private static final int DESIRED = 2;
    private static final int REPORTED = 3;
    private static final SerializedString EMPTY_OBJECT = new SerializedString("{}");
    private static final SerializedString EMPTY_ARRAY = new SerializedString("[]");

    private DeviceCodec() {
    }

    private record Encoded(JsonNode node, SerializedString json) {
    }

    /**
     * Writes one section (tags, desired, reported, parent scopes) of a document. Devices share their sections
     * ({@link Interner}: a twin job gives each batch of a thousand devices the same tags and desired objects),
     * and stored sections are never changed in place. So the last section of each kind is remembered, per thread
     * (each job worker writes its own batches): when the next document has the same one again (the same object,
     * or an equal one), its JSON, made once, is copied rather than written again. Empty sections are constants.
     * Documents stay byte for byte what writing every section each time gives.
     */
    private static void writeSection(JsonGenerator g, Encoded[] last, int kind, JsonNode node) throws IOException {
        if (node.isEmpty()) {
            g.writeRawValue(node.isArray() ? EMPTY_ARRAY : EMPTY_OBJECT);
            return;
        }
        Encoded e = last[kind];
        if (e == null || e.node != node && !e.node.equals(node)) {
            last[kind] = new Encoded(node, null); // seen once: written as usual, remembered in case it comes again
            Json.write(g, node);
            return;
        }
        if (e.json == null) {
            e = new Encoded(e.node, new SerializedString(Json.MAPPER.writeValueAsString(node)));
            last[kind] = e;
        }
        g.writeRawValue(e.json);
    }

    /** Written straight to bytes (a large twin job writes a million of these); absent values are left out. */
    static byte[] encode(Device d) {
        Writer w = WRITER.get();
        boolean written = false;
        try {
            byte[] document = w.write(d);
            written = true;
            return document;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } finally {
            if (!written) {
                WRITER.remove(); // its generator may be left inside a document: the next one starts afresh
            }
        }
    }

    /** A thread's writer: see {@link #WRITER}. */
    private static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        private final JsonGenerator g;
        /** The last object written for each kind of section, with its JSON (see {@link #writeSection}). */
        private final Encoded[] last = new Encoded[4];
        private Instant lastInstant;
        private String lastInstantText;

        Writer() {
            try {
                g = Json.MAPPER.getFactory().createGenerator(out);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            g.setRootValueSeparator(null); // documents follow each other in the buffer with nothing between them
        }

        byte[] write(Device d) throws IOException {
            out.reset();
            g.writeStartObject();
            g.writeStringField("id", d.id);
            writeIfPresent(g, "generationId", d.generationId);
            g.writeNumberField("etagCounter", d.etagCounter);
            g.writeBooleanField("enabled", d.enabled);
            writeIfPresent(g, "statusReason", d.statusReason);
            writeIfPresent(g, "statusUpdatedTime", text(d.statusUpdatedTime));
            writeIfPresent(g, "authType", d.authType);
            writeIfPresent(g, "primaryKey", d.primaryKey);
            writeIfPresent(g, "secondaryKey", d.secondaryKey);
            writeIfPresent(g, "primaryThumbprint", d.primaryThumbprint);
            writeIfPresent(g, "secondaryThumbprint", d.secondaryThumbprint);
            g.writeBooleanField("iotEdge", d.iotEdge);
            writeIfPresent(g, "deviceScope", d.deviceScope);
            g.writeFieldName("parentScopes");
            writeSection(g, last, SCOPES, d.parentScopes);
            writeIfPresent(g, "managedBy", d.managedBy);
            g.writeFieldName("tags");
            writeSection(g, last, TAGS, d.tags);
            g.writeFieldName("desired");
            writeSection(g, last, DESIRED, d.desired.document());
            g.writeFieldName("reported");
            writeSection(g, last, REPORTED, d.reported.document());
            g.writeNumberField("twinVersion", d.twinVersion);
            writeIfPresent(g, "lastActivityTime", text(d.runtime.lastActivityTime()));
            g.writeEndObject();
            g.flush();
            return out.toByteArray();
        }

        /** Devices registered together share their times: the last one's text is kept. */
        private String text(Instant t) {
            if (t == null) {
                return null;
            }
            if (!t.equals(lastInstant)) {
                lastInstant = t;
                lastInstantText = t.toString();
            }
            return lastInstantText;
        }
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
        b.parentScopes = scopes instanceof ArrayNode a && !a.isEmpty() ? a : Device.NO_SCOPES;
        b.managedBy = Json.text(n, "managedBy");
        // Read back shared as they were written: the devices of a bulk request or of a twin job's batch, stored
        // next to each other in id order, share their tags and sections again (Interner).
        ObjectNode tags = (ObjectNode) n.get("tags");
        b.tags = tags == null ? null : Interner.TAGS.intern(tags);
        b.desired = TwinSection.fromStored((ObjectNode) n.get("desired"), true);
        b.reported = TwinSection.fromStored((ObjectNode) n.get("reported"), false);
        b.twinVersion = n.get("twinVersion").asLong();
        String last = Json.text(n, "lastActivityTime");
        b.runtime = new DeviceRuntime(last == null ? null : Instant.parse(last));
        return new Device(b);
    }
}
