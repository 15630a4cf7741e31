package dev.iotjobs.localhub.model;

import java.util.Objects;

/**
 * The identity a device-side connection authenticated as: a device ({@code moduleId == null}) or one of its
 * modules. Resolved once, when the connection authenticates, and carried from then on instead of slash-joined ids.
 */
public record IdentityKey(String deviceId, String moduleId) {

    public IdentityKey {
        Objects.requireNonNull(deviceId, "deviceId");
    }

    public static IdentityKey device(String deviceId) {
        return new IdentityKey(deviceId, null);
    }

    public static IdentityKey module(String deviceId, String moduleId) {
        return new IdentityKey(deviceId, Objects.requireNonNull(moduleId, "moduleId"));
    }

    public boolean isModule() {
        return moduleId != null;
    }

    /** {@code deviceId} or {@code deviceId/moduleId}, for log lines and error messages. */
    @Override
    public String toString() {
        return moduleId == null ? deviceId : deviceId + "/" + moduleId;
    }
}
