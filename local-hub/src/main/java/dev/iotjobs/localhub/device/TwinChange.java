package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;

import java.time.Instant;

/**
 * A validated service-side change to tags and/or desired properties: a merge patch, or (for PUT twin) a
 * replacement. Null sections mean "leave alone"; an explicit JSON null section clears it.
 */
public record TwinChange(ObjectNode tags, ObjectNode desired, boolean replace) {

    /**
     * Reads the twin body the SDKs send (root fields such as deviceId/etag are ignored; only {@code tags}
     * and {@code properties.desired} are writable by the service).
     */
    public static TwinChange fromServiceBody(ObjectNode body, boolean replace) {
        ObjectNode tags = section(body.get("tags"), "tags", replace);
        ObjectNode desired = null;
        JsonNode properties = body.get("properties");
        if (properties != null && !properties.isNull()) {
            if (!properties.isObject()) {
                throw ErrorCode.ARGUMENT_INVALID.exception("Twin 'properties' must be an object.");
            }
            JsonNode reported = properties.get("reported");
            if (reported != null && !reported.isNull() && !(reported.isObject() && reported.isEmpty())) {
                throw ErrorCode.ARGUMENT_INVALID.exception("Reported properties can only be written by the device.");
            }
            desired = section(properties.get("desired"), "properties.desired", replace);
        } else if (replace) {
            desired = Json.object();
        }
        if (body.has("desired") || body.has("reported")) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Desired and reported properties must be inside 'properties'.");
        }
        return new TwinChange(tags, desired, replace);
    }

    private static ObjectNode section(JsonNode node, String name, boolean replace) {
        if (node == null) {
            return replace ? Json.object() : null;
        }
        if (node.isNull()) {
            return Json.object().putNull("$clear");
        }
        if (!node.isObject()) {
            throw ErrorCode.ARGUMENT_INVALID.exception("Twin '" + name + "' must be an object.");
        }
        ObjectNode copy = ((ObjectNode) node).deepCopy();
        // The service SDK sends the section's $version back (TwinCollection.toJsonObject); it is read-only and
        // ignored. $metadata it never sends: like any other '$' key it is refused below (400004), as over MQTT.
        copy.remove("$version");
        TwinRules.checkPatch(name, copy);
        return copy;
    }

    private static boolean clears(ObjectNode section) {
        return section.size() == 1 && section.has("$clear");
    }

    /** Applies the change to one device, returning its next version (twin version + 1). */
    public Device applyTo(Device current, Instant now) {
        return applyTo(current, now, new Memo());
    }

    /**
     * Applies the change to one device of many changed at the same instant ({@code memo} is theirs, used by one
     * thread): devices that share their tags or desired section (see {@link Interner}; a fleet registered or
     * updated together does) share the result too, computed once. Sections are immutable, and the result depends
     * only on the section, the change and the instant, so it is the same object every device would get.
     */
    Device applyTo(Device current, Instant now, Memo memo) {
        Device.Builder b = current.toBuilder();
        boolean changed = false;
        if (tags != null && (replace || clears(tags) || !tags.isEmpty())) {
            if (memo.tagsBefore != current.tags()) {
                ObjectNode newTags = replace || clears(tags) ? Json.object() : current.tags().deepCopy();
                if (!clears(tags)) {
                    mergeTags(newTags, tags);
                }
                TwinRules.checkSize("tags", newTags, TwinRules.MAX_TAGS_BYTES);
                memo.tagsAfter = newTags;
                memo.tagsBefore = current.tags();
            }
            b.tags = memo.tagsAfter;
            changed = true;
        }
        if (desired != null && (replace || clears(desired) || !desired.isEmpty())) {
            if (memo.desiredBefore != current.desired().document()) {
                TwinSection section = replace || clears(desired)
                        ? current.desired().replace(clears(desired) ? Json.object() : desired, now)
                        : current.desired().merge(desired, now);
                TwinRules.checkSize("properties.desired", section.document(), TwinRules.MAX_PROPERTIES_BYTES);
                memo.desiredAfter = section;
                memo.desiredBefore = current.desired().document();
            }
            b.desired = memo.desiredAfter;
            changed = true;
        }
        if (changed) {
            b.twinVersion = current.twinVersion() + 1;
        }
        return b.build();
    }

    private static void mergeTags(ObjectNode target, ObjectNode patch) {
        patch.fields().forEachRemaining(e -> {
            JsonNode value = e.getValue();
            if (value.isNull()) {
                target.remove(e.getKey());
            } else if (value.isObject() && target.get(e.getKey()) instanceof ObjectNode existing) {
                mergeTags(existing, (ObjectNode) value);
            } else {
                target.set(e.getKey(), value.deepCopy());
            }
        });
    }

    /** True when applying this change writes desired properties (so the device must be told). */
    public boolean touchesDesired() {
        return desired != null && (replace || !desired.isEmpty());
    }

    /** What the device is told: the patch as applied (whole section for a replace) plus $version. */
    ObjectNode desiredNotification(Device updated) {
        ObjectNode n = replace || clears(desired) ? updated.desired().values().deepCopy() : desired.deepCopy();
        n.put("$version", updated.desired().version());
        return n;
    }

    /** The last section a change was applied to and its result, for devices changed together (one thread). */
    static final class Memo {
        private ObjectNode tagsBefore;
        private ObjectNode tagsAfter;
        private ObjectNode desiredBefore; // a section's document: shared by equal sections (Interner)
        private TwinSection desiredAfter;
    }
}
