package dev.iotjobs.localhub.session;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore.Bucket;
import dev.iotjobs.localhub.store.HubStore;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * Durable device sessions: the topic filters each device subscribed to, which outlive its connections as
 * IoT Hub's do (a device that reconnects after a hub restart keeps receiving methods and desired patches
 * without subscribing again: the device SDK does not re-subscribe). The only class that knows their keys:
 * {@code META mqtt-session/<deviceId>}, a JSON array of filters in sorted order.
 */
public final class SessionStore {
    private static final String KEY_PREFIX = "mqtt-session/";
    private final HubStore store;

    public SessionStore(HubStore store) {
        this.store = store;
    }

    /** Visits every stored session: device id and its filters. */
    public void loadAll(BiConsumer<String, Set<String>> each) {
        store.forEach(Bucket.META, (key, bytes) -> {
            if (key.startsWith(KEY_PREFIX)) {
                Set<String> filters = new TreeSet<>();
                Json.readStoredArray(bytes).forEach(f -> filters.add(f.asText()));
                each.accept(key.substring(KEY_PREFIX.length()), filters);
            }
        });
    }

    /** Commits a device's filters (blocking: call from a worker thread). */
    public void save(String deviceId, Collection<String> filters) {
        ArrayNode array = Json.NODES.arrayNode();
        filters.stream().sorted().forEach(array::add);
        store.put(Bucket.META, KEY_PREFIX + deviceId, Json.bytes(array));
    }

    /** Forgets a device's session and commits. */
    public void delete(String deviceId) {
        store.delete(Bucket.META, KEY_PREFIX + deviceId);
    }
}
