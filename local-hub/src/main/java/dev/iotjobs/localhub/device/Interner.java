package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

/**
 * Shares equal twin JSON objects between devices. Tags and property sections are immutable once stored,
 * and fleets are full of equal ones: a bulk registration gives thousands of devices the same tags, and a
 * twin job writes the same desired section (values and metadata) to every device it touches within a
 * millisecond. Remembering the last object seen per kind is enough to catch those runs; a miss costs one
 * equality check on a small object. Benign races only lose sharing, never correctness.
 */
final class Interner {
    private final ObjectNode empty = Json.object();
    private volatile ObjectNode last;

    ObjectNode intern(ObjectNode node) {
        if (node.isEmpty()) {
            return empty; // one shared empty object; it must not evict the last non-empty one
        }
        ObjectNode previous = last;
        if (previous != null && previous != node && previous.equals(node)) {
            return previous;
        }
        last = node;
        return node;
    }

    static final Interner TAGS = new Interner();
    static final Interner DESIRED = new Interner();
    static final Interner REPORTED = new Interner();
}
