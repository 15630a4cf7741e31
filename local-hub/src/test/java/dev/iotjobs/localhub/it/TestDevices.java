package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.localhub.LocalHub;

import java.util.UUID;

/** Helpers shared by the SDK-driven tests: unique device ids, registration, connected clients. */
final class TestDevices {
    private TestDevices() {
    }

    static String uniqueId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Registers a new SAS device through the unmodified RegistryClient. */
    static Device register(LocalHub hub, String deviceId) throws Exception {
        return new RegistryClient(hub.hubConnectionString()).addDevice(new Device(deviceId));
    }

    static String connectionString(Device device) {
        return "HostName=127.0.0.1;DeviceId=" + device.getDeviceId() + ";SharedAccessKey=" + device.getPrimaryKey();
    }

    /** Registers devices {@code prefix-0..count-1} with the given tags through the bulk registry API. */
    static java.util.List<String> bulkRegister(String prefix, int count, com.fasterxml.jackson.databind.node.ObjectNode tags)
            throws Exception {
        return dev.iotjobs.localhub.fleet.FleetDevices.localHub().bulkCreate(prefix, count, tags).stream()
                .map(dev.iotjobs.localhub.fleet.FleetSimulator.DeviceCredentials::deviceId).toList();
    }

    /** An open MQTT DeviceClient for a newly registered device. */
    static DeviceClient connect(Device device) throws Exception {
        DeviceClient client = new DeviceClient(connectionString(device), IotHubClientProtocol.MQTT);
        client.open(false);
        return client;
    }
}
