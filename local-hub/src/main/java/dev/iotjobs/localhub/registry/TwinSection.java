package dev.iotjobs.localhub.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.time.Instant;
import java.util.Iterator;
import java.util.Map;

/**
 * One twin property section (desired or reported): its values, its {@code $metadata} tree and its
 * {@code $version}. Immutable: {@link #merge} and {@link #replace} return a new section.
 * <p>
 * Metadata mirrors the value tree: every object level carries {@code $lastUpdated} (and, for desired,
 * {@code $lastUpdatedVersion}); it is refreshed along every changed path, as IoT Hub does.
 */
public final class TwinSection {
    /** Values plus {@code $metadata} and {@code $version}: exactly what clients see, built once per change. */
    private final ObjectNode doc;
    private final boolean desired;

    private TwinSection(ObjectNode doc, boolean desired) {
        this.doc = doc;
        this.desired = desired;
    }

    private static TwinSection of(ObjectNode values, ObjectNode metadata, long version, boolean desired) {
        values.set("$metadata", metadata);
        values.put("$version", version);
        return new TwinSection(values, desired);
    }

    /** A new device's section: no properties, {@code $version} 1. */
    public static TwinSection empty(boolean desired) {
        ObjectNode meta = Json.object();
        stamp(meta, Json.time(Instant.now()), 1, desired);
        return of(Json.object(), meta, 1, desired);
    }

    /** The properties without {@code $metadata} and {@code $version} (a copy). */
    public ObjectNode values() {
        ObjectNode values = Json.object();
        doc.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("$metadata") && !e.getKey().equals("$version")) {
                values.set(e.getKey(), e.getValue().deepCopy());
            }
        });
        return values;
    }

    public long version() {
        return doc.get("$version").asLong();
    }

    /** JSON merge patch: objects merge, a null value deletes, anything else replaces. Version + 1. */
    public TwinSection merge(ObjectNode patch, Instant now) {
        long next = version() + 1;
        ObjectNode newValues = values();
        ObjectNode newMeta = ((ObjectNode) doc.get("$metadata")).deepCopy();
        mergeInto(newValues, newMeta, patch, Json.time(now), next);
        return of(newValues, newMeta, next, desired);
    }

    /** Replaces all values (PUT twin). Version + 1. */
    public TwinSection replace(ObjectNode newValues, Instant now) {
        long next = version() + 1;
        ObjectNode copy = Json.object();
        ObjectNode meta = Json.object();
        mergeInto(copy, meta, newValues, Json.time(now), next);
        return of(copy, meta, next, desired);
    }

    private void mergeInto(ObjectNode target, ObjectNode meta, ObjectNode patch, String now, long next) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode value = e.getValue();
            if (value.isNull()) {
                target.remove(key);
                meta.remove(key);
            } else if (value.isObject() && target.get(key) instanceof ObjectNode existing) {
                ObjectNode childMeta = meta.get(key) instanceof ObjectNode m ? m : meta.putObject(key);
                mergeInto(existing, childMeta, (ObjectNode) value, now, next);
            } else {
                target.set(key, withoutNulls(value));
                meta.set(key, metadataFor(value, now, next));
            }
        }
        stamp(meta, now, next, desired);
    }

    /** A new object value may itself contain nulls; IoT Hub stores none. */
    private static JsonNode withoutNulls(JsonNode value) {
        if (!value.isObject()) {
            return value.deepCopy();
        }
        ObjectNode copy = Json.object();
        value.fields().forEachRemaining(e -> {
            if (!e.getValue().isNull()) {
                copy.set(e.getKey(), withoutNulls(e.getValue()));
            }
        });
        return copy;
    }

    private ObjectNode metadataFor(JsonNode value, String now, long next) {
        ObjectNode m = Json.object();
        if (value.isObject()) {
            value.fields().forEachRemaining(e -> {
                if (!e.getValue().isNull()) {
                    m.set(e.getKey(), metadataFor(e.getValue(), now, next));
                }
            });
        }
        stamp(m, now, next, desired);
        return m;
    }

    private static void stamp(ObjectNode meta, String now, long next, boolean desired) {
        meta.put("$lastUpdated", now);
        if (desired) {
            meta.put("$lastUpdatedVersion", next);
        }
    }

    /**
     * The section as clients see it: values, {@code $metadata} (optional), {@code $version}. With metadata
     * the shared node itself is returned: callers must not modify it.
     */
    ObjectNode render(boolean withMetadata) {
        if (withMetadata) {
            return doc;
        }
        ObjectNode n = doc.deepCopy();
        n.remove("$metadata");
        return n;
    }

    ObjectNode stored() {
        return doc;
    }

    static TwinSection fromStored(ObjectNode doc, boolean desired) {
        return new TwinSection(doc, desired);
    }
}
