package dev.iotjobs.localhub.auth;

/** IoT Hub shared-access permissions (what a policy grants). */
public enum Permission {
    REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT, DEVICE_CONNECT
}
