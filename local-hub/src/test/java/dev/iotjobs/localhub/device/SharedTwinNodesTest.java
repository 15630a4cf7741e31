package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Equal tags and sections are shared between devices to save memory; a change to one device must never
 * show through on another.
 */
class SharedTwinNodesTest {
    private final MemoryHubStore store = new MemoryHubStore();
    private final DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
    private final RegistryService registryService = new RegistryService(registry);
    private final TwinService twins = new TwinService(registry);

    private void bulkCreate(String... ids) {
        ArrayNode batch = Json.NODES.arrayNode();
        for (String id : ids) {
            ObjectNode d = batch.addObject().put("id", id).put("importMode", "create");
            d.putObject("tags").putObject("site").put("building", "43").put("floor", 3);
        }
        registryService.bulk(batch);
    }

    @Test
    void equalTagsAreSharedButAPatchChangesOnlyItsDevice() {
        bulkCreate("a", "b");
        assertSame(registry.get("a").tags(), registry.get("b").tags(), "equal tags share one node");

        ObjectNode patch = Json.object();
        patch.putObject("tags").putObject("site").put("floor", 4);
        patch.putObject("properties").putObject("desired").put("mode", "eco");
        twins.patch("a", patch, null);

        assertEquals(4, registry.get("a").tags().get("site").get("floor").asInt());
        assertEquals(3, registry.get("b").tags().get("site").get("floor").asInt());
        assertEquals("43", registry.get("b").tags().get("site").get("building").asText());
        assertFalse(registry.get("b").desired().values().has("mode"));
        assertEquals(1, registry.get("b").desired().version());
    }

    @Test
    void theDevicesOfOneBulkRequestShareOneCreationInstantAndSoTheirEmptySections() {
        bulkCreate("p", "q", "r");
        Device p = registry.get("p");
        for (String other : List.of("q", "r")) {
            Device d = registry.get(other);
            assertSame(p.desired().document(), d.desired().document(), other + ": desired section shared");
            assertSame(p.reported().document(), d.reported().document(), other + ": reported section shared");
            assertEquals(p.statusUpdatedTime, d.statusUpdatedTime, other + ": one creation instant");
        }
        assertEquals(Json.time(p.statusUpdatedTime),
                p.reported().document().get("$metadata").get("$lastUpdated").asText(),
                "an empty section was last updated when its device was created");
    }

    @Test
    void devicesReadBackFromTheStoreShareWhatTheySharedWhenWritten() {
        bulkCreate("s", "t");
        registry.createAll(List.of(registryService.newDevice(Json.object().put("deviceId", "u"))));
        DeviceRegistry reloaded = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        Device s = reloaded.get("s");
        Device t = reloaded.get("t");
        assertSame(s.tags(), t.tags(), "tags shared again");
        assertSame(s.desired().document(), t.desired().document(), "desired section shared again");
        assertSame(s.reported().document(), t.reported().document(), "reported section shared again");
        assertSame(Device.NO_SCOPES, s.parentScopes, "no parent scopes: the shared empty array");
        assertFalse(reloaded.get("u").reported().document() == s.reported().document(),
                "a device created on its own keeps its own creation time");
        assertEquals(registry.get("s").reported().document(), s.reported().document());
    }

    @Test
    void aJobPatchSharesSectionsAndLaterChangesStayPerDevice() {
        bulkCreate("c", "d");
        ObjectNode update = Json.object();
        update.putObject("properties").putObject("desired").putObject("lock").put("state", "closed");
        twins.patchMany(List.of("c", "d"), TwinChange.fromServiceBody(update, false), changed -> List.of()).join();

        ObjectNode second = Json.object();
        second.putObject("properties").putObject("desired").putObject("lock").put("state", "open");
        twins.patch("c", second, null);

        assertEquals("open", registry.get("c").desired().values().get("lock").get("state").asText());
        assertEquals("closed", registry.get("d").desired().values().get("lock").get("state").asText());
        assertEquals(3, registry.get("c").desired().version());
        assertEquals(2, registry.get("d").desired().version());
    }

    @Test
    void aJobBatchComputesASharedSectionOnceAndEveryDeviceGetsTheResultOfItsOwnSection() {
        bulkCreate("e", "f", "h");
        ObjectNode own = Json.object(); // g: other tags and an earlier desired change of its own
        own.putObject("tags").put("site", "lab");
        own.putObject("properties").putObject("desired").put("mode", "eco");
        registryService.bulk(Json.NODES.arrayNode().add(Json.object().put("id", "g").put("importMode", "create")));
        twins.patch("g", own, null);

        ObjectNode update = Json.object();
        update.putObject("tags").put("zone", "north");
        update.putObject("properties").putObject("desired").putObject("lock").put("state", "closed");
        twins.patchMany(List.of("e", "f", "h", "g"), TwinChange.fromServiceBody(update, false), changed -> List.of()).join();
        // e, f and h now hold equal sections (shared); the next batch computes theirs once and shares the result.
        ObjectNode again = Json.object();
        again.putObject("properties").putObject("desired").putObject("lock").put("state", "closed");
        twins.patchMany(List.of("e", "f", "h", "g"), TwinChange.fromServiceBody(again, false), changed -> List.of()).join();

        assertSame(registry.get("e").desired(), registry.get("f").desired(), "one result for the shared section");
        assertSame(registry.get("e").desired(), registry.get("h").desired());
        assertSame(registry.get("e").tags(), registry.get("h").tags());
        for (String id : List.of("e", "f", "h")) {
            assertEquals(3, registry.get(id).desired().version(), id);
            assertFalse(registry.get(id).desired().values().has("mode"), id);
            assertEquals("closed", registry.get(id).desired().values().get("lock").get("state").asText(), id);
            assertEquals("43", registry.get(id).tags().get("site").get("building").asText(), id);
            assertEquals("north", registry.get(id).tags().get("zone").asText(), id);
        }
        assertEquals(4, registry.get("g").desired().version(), "g's own section, changed");
        assertEquals("eco", registry.get("g").desired().values().get("mode").asText());
        assertEquals("closed", registry.get("g").desired().values().get("lock").get("state").asText());
        assertEquals("lab", registry.get("g").tags().get("site").asText());
        assertEquals("north", registry.get("g").tags().get("zone").asText());
    }
}
