package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.store.MvHubStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Modules are durable in their own bucket of the MVStore file: identities (keys, managedBy, etag) and twins
 * survive a reopen, a deleted device's modules stay deleted, and modules orphaned by a stop between a device's
 * deletion and its modules' are removed at start.
 */
class ModuleStoreTest {
    @TempDir
    Path dir;

    /** The core as LocalHub wires it, over one open store. */
    private record Hub(MvHubStore store, DeviceRegistry devices, DeviceRegistry moduleRegistry, RegistryService registry,
                       ModuleService modules) implements AutoCloseable {
        static Hub open(Path file, boolean cascade) {
            MvHubStore store = MvHubStore.open(file);
            DeviceRegistry devices = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
            DeviceRegistry moduleRegistry = new DeviceRegistry(DeviceStore.modules(store), Clock.systemUTC());
            ModuleService modules = new ModuleService(devices, moduleRegistry, new TwinService(moduleRegistry));
            if (cascade) {
                devices.onRemovedOrDisabled(modules::deviceRemovedOrDisabled);
            }
            return new Hub(store, devices, moduleRegistry, new RegistryService(devices), modules);
        }

        @Override
        public void close() {
            store.close();
        }
    }

    @Test
    void modulesAndTheirTwinsSurviveAReopen_aDeletedDevicesModulesStayDeleted() {
        Path file = dir.resolve("hub.mv.db");
        String key;
        try (Hub hub = Hub.open(file, true)) {
            hub.registry.put("d1", Json.object(), null);
            hub.registry.put("d2", Json.object(), null);
            key = hub.modules.put("d1", "a", Json.object().put("managedBy", "edge"), null)
                    .get("authentication").get("symmetricKey").get("primaryKey").asText();
            hub.modules.put("d1", "b", Json.object(), null);
            hub.modules.put("d2", "a", Json.object(), null);
            ObjectNode patch = Json.object();
            patch.putObject("properties").putObject("desired").put("rate", 5);
            hub.modules.patchTwin("d1", "a", patch, null);
            hub.registry.delete("d2", null);
            assertEquals(1, hub.devices.size(), "modules are not devices (d1 is left)");
        }
        try (Hub hub = Hub.open(file, true)) {
            assertEquals(List.of("a", "b"), moduleIds(hub.modules, "d1"));
            ObjectNode a = hub.modules.get("d1", "a");
            assertEquals(key, a.get("authentication").get("symmetricKey").get("primaryKey").asText());
            assertEquals("edge", a.get("managedBy").asText());
            ObjectNode twin = hub.modules.getTwin("d1", "a");
            assertEquals(5, twin.get("properties").get("desired").get("rate").asInt());
            assertEquals("a", twin.get("moduleId").asText());
            assertEquals("d1", twin.get("deviceId").asText());
            hub.registry.put("d2", Json.object(), null);
            assertEquals(List.of(), moduleIds(hub.modules, "d2"), "the deleted device's modules did not come back");
            HubException e = assertThrows(HubException.class, () -> hub.modules.get("d2", "a"));
            assertEquals(404010, e.errorCode().code());
        }
    }

    @Test
    void modulesLeftByADeviceDeletedWithoutThemAreDeletedAtStart() {
        Path file = dir.resolve("orphans.mv.db");
        try (Hub hub = Hub.open(file, false)) { // no cascade: as if the hub stopped between the two deletions
            hub.registry.put("d", Json.object(), null);
            hub.modules.put("d", "m", Json.object(), null);
            hub.registry.delete("d", null);
            assertEquals(1, hub.moduleRegistry.size());
        }
        try (Hub hub = Hub.open(file, true)) {
            assertEquals(1, hub.modules.deleteOrphans());
            assertEquals(0, hub.moduleRegistry.size());
            hub.registry.put("d", Json.object(), null);
            assertEquals(List.of(), moduleIds(hub.modules, "d"));
        }
    }

    private static List<String> moduleIds(ModuleService modules, String deviceId) {
        List<String> ids = new ArrayList<>();
        modules.list(deviceId).forEach(m -> ids.add(m.get("moduleId").asText()));
        return ids;
    }
}
