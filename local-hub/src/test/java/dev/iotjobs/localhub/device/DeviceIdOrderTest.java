package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.RandomAccess;
import java.util.Spliterator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Jobs select their targets from the registry's id index: it must follow creates, deletes and restarts. */
class DeviceIdOrderTest {

    @Test
    void idOrder_followsCreatesDeletesAndReCreates_andSurvivesAReload() {
        MemoryHubStore store = new MemoryHubStore();
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        create(registry, "c");
        create(registry, "a");
        bulkCreate(registry, "d", "b");
        registry.delete("c", d -> { });
        assertEquals(List.of("a", "b", "d"), ids(registry));
        create(registry, "c"); // re-created after its deletion
        assertEquals(List.of("a", "b", "c", "d"), ids(registry));
        assertEquals(List.of("a", "b", "c", "d"), ids(new DeviceRegistry(new DeviceStore(store), Clock.systemUTC())));
    }

    @Test
    void bothTwinSnapshots_areRandomAccess_soParallelScansSplitThemInHalves() {
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(new MemoryHubStore()), Clock.systemUTC());
        bulkCreate(registry, "b", "a", "c");
        for (List<JsonNode> snapshot : List.of(registry.twinDocuments(), registry.twinDocumentsInIdOrder())) {
            assertInstanceOf(RandomAccess.class, snapshot);
            // A split in halves knows both halves' sizes; an iterator's split (the fallback) does not.
            Spliterator<JsonNode> half = snapshot.spliterator().trySplit();
            assertTrue(half != null && half.hasCharacteristics(Spliterator.SUBSIZED), "split in halves");
        }
        assertEquals(List.of("a", "b", "c"), ids(registry));
    }

    private static void create(DeviceRegistry registry, String id) {
        Device.Builder b = new Device.Builder();
        b.id = id;
        registry.create(b.build());
    }

    private static void bulkCreate(DeviceRegistry registry, String... ids) {
        ArrayNode batch = Json.NODES.arrayNode();
        for (String id : ids) {
            batch.addObject().put("id", id).put("importMode", "create");
        }
        new RegistryService(registry).bulk(batch);
    }

    private static List<String> ids(DeviceRegistry registry) {
        return registry.twinDocumentsInIdOrder().stream().map(t -> t.get("deviceId").asText()).toList();
    }
}
