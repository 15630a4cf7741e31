package dev.iotjobs.localhub.method;

import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.ModuleIds;
import dev.iotjobs.localhub.model.HubException;

import java.util.concurrent.CompletableFuture;

/**
 * Module direct methods ({@code POST /twins/{id}/modules/{moduleId}/methods}): 404001 for an unknown device,
 * then what {@link MethodService} answers over the module registry (404010 unknown module, 404103 offline or
 * not subscribed, 504101 no answer in time). The module is reached by its MQTT client id, its module key.
 */
public final class ModuleMethodService {
    private final DeviceRegistry devices;
    private final MethodService moduleMethods;

    /** @param moduleMethods a {@link MethodService} over the module registry */
    public ModuleMethodService(DeviceRegistry devices, MethodService moduleMethods) {
        this.devices = devices;
        this.moduleMethods = moduleMethods;
    }

    public CompletableFuture<MethodResponse> invoke(String deviceId, String moduleId, MethodRequest request) {
        try {
            devices.get(deviceId);
        } catch (HubException e) {
            return CompletableFuture.failedFuture(e);
        }
        return moduleMethods.invoke(ModuleIds.key(deviceId, moduleId), request);
    }
}
