package dev.iotjobs.localhub.device;

import dev.iotjobs.localhub.model.ErrorCode;

import java.util.Locale;

/**
 * What a bulk registry entry (ExportImportDevice) does, by its {@code importMode}: IoT Hub's values, in the
 * spelling the SDKs send ({@code create}, {@code createOrUpdate}, ...; matched case-insensitively). An absent
 * {@code importMode} is {@code createOrUpdate}, the first value of IoT Hub's enumeration.
 */
public enum ImportMode {
    CREATE_OR_UPDATE("createOrUpdate"),
    CREATE("create"),
    UPDATE("update"),
    UPDATE_IF_MATCH_ETAG("updateIfMatchETag"),
    CREATE_OR_UPDATE_IF_MATCH_ETAG("createOrUpdateIfMatchETag"),
    DELETE("delete"),
    DELETE_IF_MATCH_ETAG("deleteIfMatchETag"),
    /** Only the twin's {@code tags} and {@code properties.desired}, merged; the identity is untouched. */
    UPDATE_TWIN("updateTwin"),
    /** As {@link #UPDATE_TWIN}, if the entry's {@code twinETag} matches the twin's etag. */
    UPDATE_TWIN_IF_MATCH_ETAG("updateTwinIfMatchETag");

    private final String wireName;

    ImportMode(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** Whether the entry's {@code eTag} must match (the other modes ignore it). */
    public boolean checksETag() {
        return this == UPDATE_IF_MATCH_ETAG || this == CREATE_OR_UPDATE_IF_MATCH_ETAG || this == DELETE_IF_MATCH_ETAG;
    }

    /** Whether the entry changes only the twin (its {@code twinETag}, for the IfMatch variant). */
    public boolean twinOnly() {
        return this == UPDATE_TWIN || this == UPDATE_TWIN_IF_MATCH_ETAG;
    }

    public boolean creates() {
        return this == CREATE || this == CREATE_OR_UPDATE || this == CREATE_OR_UPDATE_IF_MATCH_ETAG;
    }

    public boolean deletes() {
        return this == DELETE || this == DELETE_IF_MATCH_ETAG;
    }

    static ImportMode parse(String text) {
        if (text == null) {
            return CREATE_OR_UPDATE;
        }
        for (ImportMode m : values()) {
            if (m.wireName.toLowerCase(Locale.ROOT).equals(text.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw ErrorCode.ARGUMENT_INVALID.exception("importMode '" + text + "' is invalid: use create, createOrUpdate, "
                + "createOrUpdateIfMatchETag, update, updateIfMatchETag, delete, deleteIfMatchETag, updateTwin or "
                + "updateTwinIfMatchETag.");
    }
}
