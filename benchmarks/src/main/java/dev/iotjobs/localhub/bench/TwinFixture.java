package dev.iotjobs.localhub.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.device.DeviceStore;
import dev.iotjobs.localhub.device.RegistryService;
import dev.iotjobs.localhub.device.TwinChange;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.store.HubStore;

import java.time.Clock;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.function.BiConsumer;
import java.util.stream.IntStream;

/**
 * The input of the limit scenarios: N devices registered as {@link BenchHub#register} registers them (bulk
 * creates of 100 with the scenario's tags), made by the hub's own registry code in memory, without a hub, a
 * network or a store (the registry's writes are serialized, then dropped). The devices are the same values the
 * hub would hold (keys, generation id, tags, empty twin sections), so what is measured on them is the real
 * per-device work.
 */
final class TwinFixture {
    final DeviceRegistry registry;

    private TwinFixture(DeviceRegistry registry) {
        this.registry = registry;
    }

    /** Registers {@code prefix-0 .. prefix-(n-1)} with {@code tags}, 100 per bulk request, on both cores. */
    static TwinFixture register(String prefix, int n, ObjectNode tags) {
        DeviceRegistry registry = new DeviceRegistry(new DeviceStore(new DiscardingStore()), Clock.systemUTC());
        RegistryService service = new RegistryService(registry);
        IntStream.range(0, (n + 99) / 100).parallel().forEach(b -> {
            ArrayNode batch = Json.NODES.arrayNode();
            for (int i = b * 100; i < Math.min(n, b * 100 + 100); i++) {
                ObjectNode d = batch.addObject();
                d.put("id", prefix + "-" + i);
                d.put("importMode", "create");
                d.set("tags", tags);
            }
            ObjectNode result = service.bulk(batch);
            if (!result.path("isSuccessful").asBoolean()) {
                throw new IllegalStateException("bulk create failed: " + result);
            }
        });
        return new TwinFixture(registry);
    }

    /** The registered devices in id order: the order in which a twin job walks its targets. */
    Device[] devicesInIdOrder() {
        Device[] devices = registry.all().toArray(new Device[0]);
        Arrays.sort(devices, Comparator.comparing(Device::id));
        return devices;
    }

    /**
     * The change the twin-job scenario schedules ({@code tags.floor = 3}, desired {@code building = 43} and
     * {@code floor = 3}), read from an updateTwin body as the hub reads the job's ({@code JobDefinition}).
     */
    static TwinChange jobChange() {
        ObjectNode body = Json.object();
        body.put("etag", "*");
        body.putObject("tags").put("floor", 3);
        body.putObject("properties").putObject("desired").put("building", 43).put("floor", 3);
        return TwinChange.fromServiceBody(body, false);
    }

    /** A store that takes every write and keeps none: the fixture's devices live in the registry only. */
    private static final class DiscardingStore implements HubStore {
        @Override
        public void put(Bucket bucket, String key, byte[] document) {
        }

        @Override
        public void putAll(Collection<Write> writes) {
        }

        @Override
        public void delete(Bucket bucket, String key) {
        }

        @Override
        public byte[] get(Bucket bucket, String key) {
            return null;
        }

        @Override
        public void forEach(Bucket bucket, BiConsumer<String, byte[]> visitor) {
        }

        @Override
        public long count(Bucket bucket) {
            return 0;
        }

        @Override
        public void close() {
        }
    }
}
