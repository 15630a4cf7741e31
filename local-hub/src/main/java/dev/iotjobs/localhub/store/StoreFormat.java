package dev.iotjobs.localhub.store;

import java.nio.charset.StandardCharsets;

/**
 * The version of the documents' layout in a store, kept in the store itself ({@code META store-format}).
 * A hub refuses a store written in another layout instead of misreading it: when a later version changes
 * the layout, it either migrates the old one or says so here. Stores written before the marker existed
 * hold layout 1 (the marker is added on first open).
 */
public final class StoreFormat {
    /** Layout 1: devices by id, jobs by id, job records t/, o/, b/, MQTT sessions mqtt-session/. */
    public static final int CURRENT = 1;
    private static final String KEY = "store-format";

    private StoreFormat() {
    }

    /**
     * Marks a new store with the current layout, and refuses a store of another one.
     *
     * @param where the data directory, for the message
     * @throws IllegalStateException if the store holds another layout
     */
    public static void check(HubStore store, Object where) {
        byte[] stored = store.get(HubStore.Bucket.META, KEY);
        if (stored == null) {
            store.put(HubStore.Bucket.META, KEY, Integer.toString(CURRENT).getBytes(StandardCharsets.US_ASCII));
            return;
        }
        String version = new String(stored, StandardCharsets.US_ASCII).trim();
        if (!version.equals(Integer.toString(CURRENT))) {
            throw new IllegalStateException("The data directory " + where + " was written by another version of"
                    + " local-hub (store format " + version + ", this hub reads format " + CURRENT + "). Start"
                    + " this hub with --data elsewhere, or delete that directory to start from scratch.");
        }
    }
}
