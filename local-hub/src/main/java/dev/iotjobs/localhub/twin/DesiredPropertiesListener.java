package dev.iotjobs.localhub.twin;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Outbound port: told of every committed desired-property change, to notify the connected device. */
@FunctionalInterface
public interface DesiredPropertiesListener {
    /** @param patchWithVersion the patch as applied, plus {@code "$version"} (the new desired version) */
    void desiredChanged(String deviceId, ObjectNode patchWithVersion);
}
