package dev.iotjobs.localhub.mqtt;

import dev.iotjobs.localhub.auth.ModuleAuthenticator;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.TwinService;

/**
 * What the MQTT adapter needs to serve module clients (client id {@code deviceId/moduleId}): their SAS check,
 * their registry (connection state, activity) and their twins. Sessions, method calls and desired-property
 * notifications go through the same {@link SessionRegistry} as devices', keyed by the client id.
 */
public record ModuleClients(ModuleAuthenticator authenticator, DeviceRegistry registry, TwinService twins) {
}
