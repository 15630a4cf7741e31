package dev.iotjobs.localhub.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubClientProtocol;
import com.microsoft.azure.sdk.iot.device.transport.IotHubConnectionStatus;
import com.microsoft.azure.sdk.iot.service.auth.SymmetricKey;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubBadFormatException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubConflictException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubPreconditionFailedException;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.DeviceConnectionState;
import com.microsoft.azure.sdk.iot.service.registry.DeviceStatus;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.registry.RegistryStatistics;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The identity registry through the unmodified RegistryClient (iot-service-client 2.1.9). */
@ExtendWith(LocalHubExtension.class)
class RegistryApiIT {
    private RegistryClient registry;

    @BeforeEach
    void newClient(LocalHub hub) {
        registry = new RegistryClient(hub.hubConnectionString());
    }

    @Test
    void addDevice_returnsTheDeviceAndGetDeviceReadsItBack() throws Exception {
        String id = TestDevices.uniqueId("reg-add");
        Device added = registry.addDevice(new Device(id));
        assertEquals(id, added.getDeviceId());
        assertEquals(DeviceStatus.Enabled, added.getStatus());
        assertEquals(DeviceConnectionState.Disconnected, added.getConnectionState());
        assertNotNull(added.getETag());
        assertNotNull(added.getGenerationId());

        Device read = registry.getDevice(id);
        assertEquals(id, read.getDeviceId());
        assertEquals(added.getPrimaryKey(), read.getPrimaryKey());
        assertEquals(added.getSecondaryKey(), read.getSecondaryKey());
        assertEquals(added.getETag(), read.getETag());
    }

    @Test
    void addDevice_keepsClientGeneratedKeys() throws Exception {
        Device device = new Device(TestDevices.uniqueId("reg-keys"));
        String primary = device.getPrimaryKey();
        Device added = registry.addDevice(device);
        assertEquals(primary, added.getPrimaryKey());
        assertEquals(device.getSecondaryKey(), added.getSecondaryKey());
    }

    @Test
    void addDevice_generatesKeysWhenAbsent() throws Exception {
        // The SDK always generates keys itself, so this PUT is hand-made, as other clients (CLI, REST) send it.
        String id = TestDevices.uniqueId("reg-nokeys");
        RawHttps.Response r = RawHttps.send("PUT", RawHttps.withApiVersion("/devices/" + id),
                "{\"deviceId\":\"" + id + "\"}");
        assertEquals(200, r.status(), r.body());
        JsonNode keys = r.json().path("authentication").path("symmetricKey");
        assertEquals("sas", r.json().path("authentication").path("type").asText());
        for (String name : new String[]{"primaryKey", "secondaryKey"}) {
            byte[] key = Base64.getDecoder().decode(keys.path(name).asText());
            assertTrue(key.length >= 16, name + " too short: " + key.length);
        }
        assertNotEquals(keys.path("primaryKey").asText(), keys.path("secondaryKey").asText());

        Device read = registry.getDevice(id);
        assertEquals(keys.path("primaryKey").asText(), read.getPrimaryKey());
    }

    @Test
    void addDevice_duplicateIdIs409001() throws Exception {
        String id = TestDevices.uniqueId("reg-dup");
        Device first = registry.addDevice(new Device(id));
        IotHubException e = assertThrows(IotHubConflictException.class, () -> registry.addDevice(new Device(id)));
        assertEquals(409001, e.getErrorCode());
        assertEquals(first.getPrimaryKey(), registry.getDevice(id).getPrimaryKey(), "the first device was replaced");
    }

    @Test
    void addDevice_invalidSymmetricKeyIs400AndNothingIsCreated() throws Exception {
        String id = TestDevices.uniqueId("reg-badkey");
        Device device = new Device(id);
        SymmetricKey keys = new SymmetricKey();
        keys.setPrimaryKey("1");
        keys.setSecondaryKey("2");
        device.setSymmetricKey(keys);
        IotHubException e = assertThrows(IotHubBadFormatException.class, () -> registry.addDevice(device));
        assertEquals(400004, e.getErrorCode());
        IotHubException missing = assertThrows(IotHubNotFoundException.class, () -> registry.getDevice(id));
        assertEquals(404001, missing.getErrorCode());
    }

    @Test
    void getDevice_unknownIdIs404001() {
        IotHubException e = assertThrows(IotHubNotFoundException.class,
                () -> registry.getDevice(TestDevices.uniqueId("reg-nobody")));
        assertEquals(404001, e.getErrorCode());
    }

    @Test
    void updateDevice_changesStatusAndEtag() throws Exception {
        Device added = registry.addDevice(new Device(TestDevices.uniqueId("reg-upd")));
        added.setStatus(DeviceStatus.Disabled);
        Device updated = registry.updateDevice(added);
        assertEquals(DeviceStatus.Disabled, updated.getStatus());
        assertNotEquals(added.getETag(), updated.getETag());
        assertEquals(added.getPrimaryKey(), updated.getPrimaryKey());

        Device read = registry.getDevice(added.getDeviceId());
        assertEquals(DeviceStatus.Disabled, read.getStatus());
        assertEquals(updated.getETag(), read.getETag());
    }

    @Test
    void updateDevice_unknownIdIs404001() {
        IotHubException e = assertThrows(IotHubNotFoundException.class,
                () -> registry.updateDevice(new Device(TestDevices.uniqueId("reg-updnobody"))));
        assertEquals(404001, e.getErrorCode());
    }

    @Test
    void removeDevice_thenGetDeviceIs404001() throws Exception {
        String id = TestDevices.uniqueId("reg-rm");
        registry.addDevice(new Device(id));
        registry.removeDevice(id);
        IotHubException e = assertThrows(IotHubNotFoundException.class, () -> registry.getDevice(id));
        assertEquals(404001, e.getErrorCode());
        IotHubException again = assertThrows(IotHubNotFoundException.class, () -> registry.removeDevice(id));
        assertEquals(404001, again.getErrorCode());
    }

    @Test
    void removeDevice_withCurrentEtagSucceeds() throws Exception {
        Device added = registry.addDevice(new Device(TestDevices.uniqueId("reg-rmetag")));
        registry.removeDevice(added);
        assertThrows(IotHubNotFoundException.class, () -> registry.getDevice(added.getDeviceId()));
    }

    @Test
    void removeDevice_withStaleEtagIs412001AndKeepsTheDevice() throws Exception {
        Device stale = registry.addDevice(new Device(TestDevices.uniqueId("reg-rmstale")));
        Device copy = registry.getDevice(stale.getDeviceId());
        copy.setStatus(DeviceStatus.Disabled);
        registry.updateDevice(copy);

        IotHubException e = assertThrows(IotHubPreconditionFailedException.class, () -> registry.removeDevice(stale));
        assertEquals(412001, e.getErrorCode());
        assertEquals(stale.getDeviceId(), registry.getDevice(stale.getDeviceId()).getDeviceId());
    }

    @Test
    void getStatistics_countsEnabledAndDisabledDevices() throws Exception {
        RegistryStatistics before = registry.getStatistics();
        registry.addDevice(new Device(TestDevices.uniqueId("reg-stat-on")));
        Device off = new Device(TestDevices.uniqueId("reg-stat-off"));
        off.setStatus(DeviceStatus.Disabled);
        registry.addDevice(off);

        RegistryStatistics after = registry.getStatistics();
        assertEquals(before.getTotalDeviceCount() + 2, after.getTotalDeviceCount());
        assertEquals(before.getEnabledDeviceCount() + 1, after.getEnabledDeviceCount());
        assertEquals(before.getDisabledDeviceCount() + 1, after.getDisabledDeviceCount());
        assertEquals(after.getTotalDeviceCount(), after.getEnabledDeviceCount() + after.getDisabledDeviceCount());

        registry.removeDevice(off.getDeviceId());
        assertEquals(after.getTotalDeviceCount() - 1, registry.getStatistics().getTotalDeviceCount());
    }

    @Test
    void open_disabledDeviceIsRefused() throws Exception {
        Device device = new Device(TestDevices.uniqueId("reg-disabled"));
        device.setStatus(DeviceStatus.Disabled);
        Device added = registry.addDevice(device);
        TestDevices.assertConnectRefused(TestDevices.connectionString(added));
    }

    @Test
    void updateDevice_disablingAConnectedDeviceDisconnectsIt(LocalHub hub) throws Exception {
        Device added = registry.addDevice(new Device(TestDevices.uniqueId("reg-kick")));
        DeviceClient client = new DeviceClient(TestDevices.connectionString(added), IotHubClientProtocol.MQTT);
        BlockingQueue<IotHubConnectionStatus> statuses = new LinkedBlockingQueue<>();
        client.setConnectionStatusChangeCallback(ctx -> statuses.add(ctx.getNewStatus()), null);
        try {
            client.open(false);
            awaitStatus(statuses, IotHubConnectionStatus.CONNECTED);
            assertEquals(DeviceConnectionState.Connected, registry.getDevice(added.getDeviceId()).getConnectionState());

            Device current = registry.getDevice(added.getDeviceId());
            current.setStatus(DeviceStatus.Disabled);
            registry.updateDevice(current);

            IotHubConnectionStatus next = statuses.poll(10, TimeUnit.SECONDS);
            assertNotNull(next, "the device was not disconnected");
            assertNotEquals(IotHubConnectionStatus.CONNECTED, next);
            assertEquals(DeviceConnectionState.Disconnected, registry.getDevice(added.getDeviceId()).getConnectionState());
        } finally {
            client.close();
        }
    }

    @Test
    void removeDevice_disconnectsAConnectedDeviceAndItCannotReconnect() throws Exception {
        Device added = registry.addDevice(new Device(TestDevices.uniqueId("reg-rmconn")));
        DeviceClient client = new DeviceClient(TestDevices.connectionString(added), IotHubClientProtocol.MQTT);
        BlockingQueue<IotHubConnectionStatus> statuses = new LinkedBlockingQueue<>();
        client.setConnectionStatusChangeCallback(ctx -> statuses.add(ctx.getNewStatus()), null);
        try {
            client.open(false);
            awaitStatus(statuses, IotHubConnectionStatus.CONNECTED);
            registry.removeDevice(added.getDeviceId());
            IotHubConnectionStatus next = statuses.poll(10, TimeUnit.SECONDS);
            assertNotNull(next, "the removed device was not disconnected");
            assertNotEquals(IotHubConnectionStatus.CONNECTED, next);
        } finally {
            client.close();
        }
        TestDevices.assertConnectRefused(TestDevices.connectionString(added));
    }

    private static void awaitStatus(BlockingQueue<IotHubConnectionStatus> statuses, IotHubConnectionStatus wanted)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            IotHubConnectionStatus s = statuses.poll(100, TimeUnit.MILLISECONDS);
            if (s == wanted) {
                return;
            }
        }
        fail("status " + wanted + " not reached");
    }
}
