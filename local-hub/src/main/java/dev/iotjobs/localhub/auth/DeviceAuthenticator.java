package dev.iotjobs.localhub.auth;

import dev.iotjobs.localhub.config.WellKnownKeys;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;

import java.time.Clock;

/** Checks a device's SAS token (the MQTT CONNECT password) against the registry. */
public final class DeviceAuthenticator {
    private final DeviceRegistry registry;
    private final Clock clock;

    public DeviceAuthenticator(DeviceRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    /** Why a connection was refused; never shown to the device (IoT Hub just says "not authorized"). */
    public record Result(boolean accepted, String reason, long expiryEpochSeconds) {
        static Result refuse(String reason) {
            return new Result(false, reason, 0);
        }
    }

    public Result authenticate(String deviceId, String password) {
        Device device = registry.find(deviceId);
        if (device == null) {
            return Result.refuse("device " + deviceId + " is not registered");
        }
        if (!device.enabled()) {
            return Result.refuse("device " + deviceId + " is disabled");
        }
        if (!"sas".equals(device.authType())) {
            return Result.refuse("device " + deviceId + " does not use SAS authentication");
        }
        SasToken token = SasToken.parse(password);
        if (token == null) {
            return Result.refuse("the password is not a SharedAccessSignature");
        }
        String resource = token.resource();
        int slash = resource.indexOf('/');
        String host = slash < 0 ? resource : resource.substring(0, slash);
        String path = slash < 0 ? "" : resource.substring(slash + 1);
        // IoT Hub requires sr = {hub}/devices/{id}: another host's token is not this hub's.
        if (!host.equalsIgnoreCase(WellKnownKeys.HOST_NAME) || !path.equals("devices/" + deviceId)) {
            return Result.refuse("the token's resource " + resource + " is not device " + deviceId);
        }
        if (token.isExpired(clock.instant().getEpochSecond())) {
            return Result.refuse("the token has expired");
        }
        if (!token.isSignedWith(device.primaryKey()) && !token.isSignedWith(device.secondaryKey())) {
            return Result.refuse("the token's signature does not match the device keys");
        }
        return new Result(true, null, token.expiry());
    }
}
