package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.function.Supplier;

/** Outbound port: told of every committed desired-property change, to notify the connected device. */
@FunctionalInterface
public interface DesiredPropertiesListener {
    /**
     * @param patchWithVersion the patch as applied, plus {@code "$version"} (the new desired version); built
     *                         only if asked for, as most devices of a large twin job are not connected
     */
    void desiredChanged(String deviceId, Supplier<ObjectNode> patchWithVersion);
}
