package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore;
import dev.iotjobs.localhub.store.MemoryHubStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The stored form of a device: what a new hub reads back equals what was written, and the document keeps the
 * field names of store format 1 (changing them needs a new format and a migration, see StoreFormat).
 */
class DeviceCodecTest {

    @Test
    void aDevice_readsBackAsWritten_throughItsStore() {
        MemoryHubStore store = new MemoryHubStore();
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC());
        registry.ensureDevice("codec-1", "42", "AAAAAAAAAAAAAAAAAAAAAA==", "BBBBBBBBBBBBBBBBBBBBBB==");
        ObjectNode body = Json.object();
        body.putObject("tags").put("site", "b43");
        body.putObject("properties").putObject("desired").put("floor", 3);
        new TwinService(registry).patch("codec-1", body, null);
        Device written = registry.get("codec-1");
        written.runtime().activity(Instant.parse("2026-01-02T03:04:05Z"));
        store.put(HubStore.Bucket.DEVICES, "codec-1", DeviceCodec.encode(written));

        Device read = new DeviceRegistry(new DeviceStore(store), Clock.systemUTC()).get("codec-1");
        assertEquals(DeviceDocuments.twin(written), DeviceDocuments.twin(read));
        assertEquals(DeviceDocuments.identity(written).without(List.of("connectionState",
                "connectionStateUpdatedTime")), DeviceDocuments.identity(read).without(List.of("connectionState",
                "connectionStateUpdatedTime")));
        assertEquals(written.etag(), read.etag());
        assertEquals(written.twinEtag(), read.twinEtag());
        assertEquals(Instant.parse("2026-01-02T03:04:05Z"), read.runtime().lastActivityTime());
    }

    @Test
    void theStoredDocument_keepsTheFieldNamesOfFormat1() {
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(new MemoryHubStore()), Clock.systemUTC());
        registry.ensureDevice("codec-2", "7", "AAAAAAAAAAAAAAAAAAAAAA==", "BBBBBBBBBBBBBBBBBBBBBB==");
        ObjectNode stored = Json.readStored(DeviceCodec.encode(registry.get("codec-2")));
        TreeSet<String> fields = new TreeSet<>();
        stored.fieldNames().forEachRemaining(fields::add);
        assertEquals(new TreeSet<>(List.of("id", "generationId", "etagCounter", "enabled", "statusUpdatedTime",
                "authType", "primaryKey", "secondaryKey", "iotEdge", "parentScopes", "tags", "desired", "reported",
                "twinVersion")), fields);
    }

    @Test
    void sharedSections_areWrittenOnce_andEveryDocumentHoldsItsOwnSections() {
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(new MemoryHubStore()), Clock.systemUTC());
        TwinService twins = new TwinService(registry);
        for (String id : List.of("codec-a", "codec-b", "codec-c")) {
            registry.ensureDevice(id, "1", "AAAAAAAAAAAAAAAAAAAAAA==", "BBBBBBBBBBBBBBBBBBBBBB==");
        }
        ObjectNode a = Json.object();
        a.putObject("tags").put("site", "Bâtiment \"43\"\n\u0001").put("n", 1.5);
        a.putObject("properties").putObject("desired").putObject("door").put("lockTime", "10m");
        twins.patch("codec-a", a, null);
        ObjectNode b = Json.object();
        b.putObject("tags").put("site", "b44");
        twins.patch("codec-b", b, null);
        twins.patch("codec-c", a.deepCopy(), null); // equal content, objects of its own

        byte[] first = DeviceCodec.encode(registry.get("codec-a"));
        byte[] other = DeviceCodec.encode(registry.get("codec-b")); // the remembered sections are now b's
        assertEquals(Json.object().put("site", "b44"), Json.readStored(other).get("tags"));
        assertArrayEquals(first, DeviceCodec.encode(registry.get("codec-a")), "re-serialized: the same bytes");
        assertArrayEquals(first, DeviceCodec.encode(registry.get("codec-a")), "remembered: the same bytes");
        ObjectNode stored = Json.readStored(first);
        assertEquals(DeviceDocuments.twin(registry.get("codec-a")).get("tags").toString(), stored.get("tags").toString());
        assertEquals("Bâtiment \"43\"\n\u0001", stored.get("tags").get("site").asText());
        assertEquals("10m", stored.get("desired").get("door").get("lockTime").asText());
        ObjectNode c = Json.readStored(DeviceCodec.encode(registry.get("codec-c")));
        assertEquals(stored.get("tags"), c.get("tags"));
        assertEquals("codec-c", c.get("id").asText());
    }

    @Test
    void aThreadsWriter_usedForManyDocuments_writesEachAsAFreshWriterWould() throws Exception {
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(new MemoryHubStore()), Clock.systemUTC());
        TwinService twins = new TwinService(registry);
        List<String> ids = List.of("w-1", "w-2", "w-3", "w-4");
        for (String id : ids) {
            registry.ensureDevice(id, "1", "AAAAAAAAAAAAAAAAAAAAAA==", "BBBBBBBBBBBBBBBBBBBBBB==");
        }
        ObjectNode patch = Json.object();
        patch.putObject("tags").put("floor", 3).put("note", "ünïcødé \"q\"");
        twins.patch("w-2", patch, null);
        registry.get("w-3").runtime().activity(Instant.parse("2026-05-06T07:08:09.123456789Z"));
        registry.get("w-4").runtime().activity(Instant.parse("2026-05-06T07:08:09.123456789Z"));

        // This thread's writer has written every document (and more) before; each new thread's writer is fresh.
        for (String id : ids) {
            DeviceCodec.encode(registry.get(id));
        }
        for (String id : ids) {
            byte[] reused = DeviceCodec.encode(registry.get(id));
            byte[][] fresh = new byte[1][];
            Thread t = new Thread(() -> fresh[0] = DeviceCodec.encode(registry.get(id)));
            t.start();
            t.join();
            assertArrayEquals(fresh[0], reused, id);
            assertEquals(id, Json.readStored(reused).get("id").asText(), "one whole document, nothing before it");
        }
        assertEquals("2026-05-06T07:08:09.123456789Z",
                Json.readStored(DeviceCodec.encode(registry.get("w-4"))).get("lastActivityTime").asText());
    }
}
