package dev.iotjobs.localhub.device;

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
        values.set("$version", number(version));
        return new TwinSection((desired ? Interner.DESIRED : Interner.REPORTED).intern(values), desired);
    }

    /** Small numbers as shared IntNodes (versions start at 1): a million twins carry several each. */
    private static JsonNode number(long n) {
        return n <= Integer.MAX_VALUE ? Json.NODES.numberNode((int) n) : Json.NODES.numberNode(n);
    }

    /**
     * A new device's section: no properties, {@code $version} 1, last updated when the device was
     * {@code created}. Devices created at the same instant (the devices of one bulk registry request) share
     * the section's JSON through the {@link Interner} (see {@link #of}).
     */
    public static TwinSection empty(boolean desired, Instant created) {
        ObjectNode meta = Json.object();
        stamp(meta, Json.time(created), 1, desired);
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

    /** Values plus {@code $metadata} and {@code $version}, shared and read-only. */
    public ObjectNode document() {
        return doc;
    }

    public long version() {
        return doc.get("$version").asLong();
    }

    /** JSON merge patch: objects merge, a null value deletes, anything else replaces. Version + 1. */
    public TwinSection merge(ObjectNode patch, Instant now) {
        long next = version() + 1;
        // Copy-on-write: only the objects along changed paths are copied; everything else stays shared
        // with the previous (immutable) version.
        ObjectNode newValues = shallowCopy(doc);
        newValues.remove("$metadata");
        newValues.remove("$version");
        ObjectNode newMeta = shallowCopy((ObjectNode) doc.get("$metadata"));
        mergeInto(newValues, newMeta, patch, Json.time(now), next);
        return of(newValues, newMeta, next, desired);
    }

    private static ObjectNode shallowCopy(ObjectNode node) {
        ObjectNode copy = Json.object();
        copy.setAll(node);
        return copy;
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
                ObjectNode childValues = shallowCopy(existing);
                target.set(key, childValues);
                ObjectNode childMeta = meta.get(key) instanceof ObjectNode m ? shallowCopy(m) : Json.object();
                meta.set(key, childMeta);
                mergeInto(childValues, childMeta, (ObjectNode) value, now, next);
            } else {
                target.set(key, withoutNulls(value));
                meta.set(key, value.isObject() ? metadataFor(value, now, next) : leafMetadata(now, next));
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
            meta.set("$lastUpdatedVersion", number(next));
        }
    }

    /**
     * Metadata of a non-object value: the same for every twin a job writes at one instant and version, so
     * it is shared (never modified: a later change replaces it; merges copy what they change).
     */
    private ObjectNode leafMetadata(String now, long next) {
        ObjectNode last = desired ? lastDesiredLeaf : lastReportedLeaf;
        if (last != null && last.get("$lastUpdated").asText().equals(now)
                && (!desired || last.get("$lastUpdatedVersion").asLong() == next)) {
            return last;
        }
        ObjectNode leaf = Json.object();
        stamp(leaf, now, next, desired);
        if (desired) {
            lastDesiredLeaf = leaf;
        } else {
            lastReportedLeaf = leaf;
        }
        return leaf;
    }

    private static volatile ObjectNode lastDesiredLeaf;
    private static volatile ObjectNode lastReportedLeaf;

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

    static TwinSection fromStored(ObjectNode doc, boolean desired) {
        return new TwinSection((desired ? Interner.DESIRED : Interner.REPORTED).intern(doc), desired);
    }
}
