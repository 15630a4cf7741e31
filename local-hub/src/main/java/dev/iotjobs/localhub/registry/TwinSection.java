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
    private final ObjectNode values;
    private final ObjectNode metadata;
    private final long version;
    private final boolean desired;

    private TwinSection(ObjectNode values, ObjectNode metadata, long version, boolean desired) {
        this.values = values;
        this.metadata = metadata;
        this.version = version;
        this.desired = desired;
    }

    /** A new device's section: no properties, {@code $version} 1. */
    public static TwinSection empty(boolean desired) {
        TwinSection s = new TwinSection(Json.object(), Json.object(), 1, desired);
        s.stamp(s.metadata, Json.time(Instant.now()), 1);
        return s;
    }

    public ObjectNode values() {
        return values;
    }

    public long version() {
        return version;
    }

    /** JSON merge patch: objects merge, a null value deletes, anything else replaces. Version + 1. */
    public TwinSection merge(ObjectNode patch, Instant now) {
        long next = version + 1;
        ObjectNode newValues = values.deepCopy();
        ObjectNode newMeta = metadata.deepCopy();
        mergeInto(newValues, newMeta, patch, Json.time(now), next);
        return new TwinSection(newValues, newMeta, next, desired);
    }

    /** Replaces all values (PUT twin). Version + 1. */
    public TwinSection replace(ObjectNode newValues, Instant now) {
        long next = version + 1;
        ObjectNode copy = Json.object();
        ObjectNode meta = Json.object();
        mergeInto(copy, meta, newValues, Json.time(now), next);
        return new TwinSection(copy, meta, next, desired);
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
        stamp(meta, now, next);
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
        stamp(m, now, next);
        return m;
    }

    private void stamp(ObjectNode meta, String now, long next) {
        meta.put("$lastUpdated", now);
        if (desired) {
            meta.put("$lastUpdatedVersion", next);
        }
    }

    /** The section as clients see it: values, then {@code $metadata} (optional), then {@code $version}. */
    ObjectNode render(boolean withMetadata) {
        ObjectNode n = values.deepCopy();
        if (withMetadata) {
            n.set("$metadata", metadata.deepCopy());
        }
        n.put("$version", version);
        return n;
    }

    ObjectNode stored() {
        ObjectNode n = Json.object();
        n.set("values", values);
        n.set("metadata", metadata);
        n.put("version", version);
        n.put("desired", desired);
        return n;
    }

    static TwinSection fromStored(ObjectNode n) {
        return new TwinSection((ObjectNode) n.get("values"), (ObjectNode) n.get("metadata"),
                n.get("version").asLong(), n.get("desired").asBoolean());
    }
}
