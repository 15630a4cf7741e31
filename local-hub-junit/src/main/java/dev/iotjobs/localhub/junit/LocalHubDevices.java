package dev.iotjobs.localhub.junit;

import com.microsoft.azure.sdk.iot.device.ClientOptions;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.ModuleClient;
import com.microsoft.azure.sdk.iot.device.ProxySettings;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.HubConfig;
import dev.iotjobs.localhub.config.WellKnownKeys;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.util.UUID;

/**
 * What a test needs to put devices and modules on a local hub: unique ids, registration through the unmodified
 * service SDK, and device or module clients with the client options that reach the hub whoever runs the test.
 * <p>
 * The well-known development connection strings are {@link WellKnownKeys#HUB_CONNECTION_STRING} (the
 * {@code iothubowner} policy) and {@link WellKnownKeys#DEVICE_CONNECTION_STRING} (the device
 * {@value WellKnownKeys#DEFAULT_DEVICE_ID} every new hub has); {@link LocalHub#deviceConnectionString(String)} and
 * {@link LocalHub#moduleConnectionString(String, String)} give those of any registered device or module.
 * <p>
 * Needs the Azure IoT SDKs on the test's classpath (the kit does not bring them: the test chooses their versions).
 */
public final class LocalHubDevices {
    private LocalHubDevices() {
    }

    /** {@code prefix-<8 random hex digits>}: tests sharing one hub keep apart by their ids. */
    public static String uniqueId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Registers a new device with SAS keys (through the service SDK's RegistryClient); returns its connection string. */
    public static String registerDevice(LocalHub hub, String deviceId) throws IOException, IotHubException {
        new RegistryClient(hub.hubConnectionString()).addDevice(new Device(deviceId));
        return hub.deviceConnectionString(deviceId);
    }

    /** Registers a new SAS module of a registered device; returns its connection string (for {@link ModuleClient}). */
    public static String registerModule(LocalHub hub, String deviceId, String moduleId) throws IOException, IotHubException {
        new RegistryClient(hub.hubConnectionString()).addModule(new Module(deviceId, moduleId));
        return hub.moduleConnectionString(deviceId, moduleId);
    }

    /**
     * Client options that reach {@code hub} over {@code protocol}: MQTT over WebSockets dials port 443, which a hub
     * started by a non-root user serves through its CONNECT proxy, and the device SDK takes a proxy only from its
     * own {@link ProxySettings}; MQTT (8883) needs nothing.
     */
    public static ClientOptions.ClientOptionsBuilder clientOptions(LocalHub hub, IotHubClientProtocol protocol) {
        ClientOptions.ClientOptionsBuilder options = ClientOptions.builder();
        if (protocol == IotHubClientProtocol.MQTT_WS && hub.restPort() != HubConfig.DEFAULT_REST_PORT && hub.proxyPort() > 0) {
            options.proxySettings(new ProxySettings(new Proxy(Proxy.Type.HTTP,
                    new InetSocketAddress(WellKnownKeys.HOST_NAME, hub.proxyPort()))));
        }
        return options;
    }

    /** A device client (not yet open) for a connection string of {@code hub}, with {@link #clientOptions}. */
    public static DeviceClient deviceClient(LocalHub hub, String connectionString, IotHubClientProtocol protocol) {
        return new DeviceClient(connectionString, protocol, clientOptions(hub, protocol).build());
    }

    /** A module client (not yet open) for a module connection string of {@code hub}, with {@link #clientOptions}. */
    public static ModuleClient moduleClient(LocalHub hub, String connectionString, IotHubClientProtocol protocol) {
        return new ModuleClient(connectionString, protocol, clientOptions(hub, protocol).build());
    }
}
