package dev.iotjobs.localhub.auth;

import dev.iotjobs.localhub.config.WellKnownKeys;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** A hub-level shared access policy: a name, a key, and the permissions it grants. */
public record SharedAccessPolicy(String name, String primaryKey, Set<Permission> permissions) {

    public SharedAccessPolicy {
        permissions = Set.copyOf(permissions);
    }

    /** The five policies every IoT hub starts with, with the local hub's well-known development keys. */
    public static List<SharedAccessPolicy> defaults() {
        return List.of(
                new SharedAccessPolicy("iothubowner", WellKnownKeys.IOTHUBOWNER_KEY, EnumSet.allOf(Permission.class)),
                new SharedAccessPolicy("service", WellKnownKeys.SERVICE_KEY, EnumSet.of(Permission.SERVICE_CONNECT)),
                new SharedAccessPolicy("device", WellKnownKeys.DEVICE_POLICY_KEY, EnumSet.of(Permission.DEVICE_CONNECT)),
                new SharedAccessPolicy("registryRead", WellKnownKeys.REGISTRY_READ_KEY,
                        EnumSet.of(Permission.REGISTRY_READ)),
                new SharedAccessPolicy("registryReadWrite", WellKnownKeys.REGISTRY_READ_WRITE_KEY,
                        EnumSet.of(Permission.REGISTRY_READ, Permission.REGISTRY_WRITE)));
    }

    /** Registry write implies read, as in IoT Hub. */
    public boolean grants(Permission permission) {
        return permissions.contains(permission)
                || (permission == Permission.REGISTRY_READ && permissions.contains(Permission.REGISTRY_WRITE));
    }
}
