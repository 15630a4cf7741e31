package dev.iotjobs.localhub.it;

import com.azure.messaging.eventhubs.CheckpointStore;
import com.azure.messaging.eventhubs.EventProcessorClient;
import com.azure.messaging.eventhubs.EventProcessorClientBuilder;
import com.azure.messaging.eventhubs.models.Checkpoint;
import com.azure.messaging.eventhubs.models.PartitionOwnership;
import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.Message;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two {@code EventProcessorClient}s sharing an in-memory checkpoint store split the built-in endpoint's four
 * partitions between them (load balancing through ownership claims and owner-level receivers) and together
 * process every device's telemetry.
 */
@ExtendWith(LocalHubExtension.class)
class EventProcessorIT {
    private static final long WAIT_NANOS = Duration.ofSeconds(90).toNanos();

    /** A checkpoint store in memory, with the optimistic concurrency (ETags) the processors rely on. */
    static final class InMemoryCheckpointStore implements CheckpointStore {
        final Map<String, PartitionOwnership> ownership = new ConcurrentHashMap<>();
        final Map<String, Checkpoint> checkpoints = new ConcurrentHashMap<>();

        @Override
        public Flux<PartitionOwnership> listOwnership(String namespace, String eventHub, String group) {
            // Deferred: the processor subscribes to this Flux again at every load-balancing cycle.
            return Flux.defer(() -> Flux.fromIterable(new ArrayList<>(ownership.values())));
        }

        @Override
        public synchronized Flux<PartitionOwnership> claimOwnership(List<PartitionOwnership> requested) {
            List<PartitionOwnership> claimed = new ArrayList<>();
            for (PartitionOwnership r : requested) {
                PartitionOwnership current = ownership.get(r.getPartitionId());
                // Optimistic concurrency: a claim names the ETag it saw (none for a partition never owned).
                if (current == null ? r.getETag() == null : current.getETag().equals(r.getETag())) {
                    PartitionOwnership owned = new PartitionOwnership().setFullyQualifiedNamespace(r.getFullyQualifiedNamespace())
                            .setEventHubName(r.getEventHubName()).setConsumerGroup(r.getConsumerGroup())
                            .setPartitionId(r.getPartitionId()).setOwnerId(r.getOwnerId())
                            .setLastModifiedTime(System.currentTimeMillis()).setETag(UUID.randomUUID().toString());
                    ownership.put(r.getPartitionId(), owned);
                    claimed.add(owned);
                }
            }
            return Flux.fromIterable(claimed);
        }

        @Override
        public Flux<Checkpoint> listCheckpoints(String namespace, String eventHub, String group) {
            return Flux.defer(() -> Flux.fromIterable(new ArrayList<>(checkpoints.values())));
        }

        @Override
        public Mono<Void> updateCheckpoint(Checkpoint checkpoint) {
            checkpoints.put(checkpoint.getPartitionId(), checkpoint);
            return Mono.empty();
        }
    }

    @Test
    void twoProcessorsShareThePartitionsAndProcessEveryEvent(LocalHub hub) throws Exception {
        InMemoryCheckpointStore store = new InMemoryCheckpointStore();
        Map<String, String> processedBy = new ConcurrentHashMap<>();
        Set<String> errors = ConcurrentHashMap.newKeySet();
        List<EventProcessorClient> processors = new ArrayList<>();
        for (String name : List.of("p1", "p2")) {
            processors.add(new EventProcessorClientBuilder()
                    .connectionString(hub.eventHubsConnectionString())
                    .consumerGroup("$Default")
                    .checkpointStore(store)
                    .loadBalancingUpdateInterval(Duration.ofSeconds(1))
                    .partitionOwnershipExpirationInterval(Duration.ofSeconds(10))
                    .processEvent(context -> {
                        String body = context.getEventData().getBodyAsString();
                        if (body.startsWith("proc-")) {
                            processedBy.put(body, name);
                        }
                        context.updateCheckpoint();
                    })
                    .processError(context -> errors.add(String.valueOf(context.getThrowable())))
                    .buildEventProcessorClient());
        }
        List<DeviceClient> clients = new ArrayList<>();
        try {
            processors.forEach(EventProcessorClient::start);
            // Balanced: the four partitions owned, two by each processor.
            long deadline = System.nanoTime() + WAIT_NANOS;
            while (!balanced(store) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertTrue(balanced(store), "ownership " + owners(store));

            Set<String> expected = new HashSet<>();
            for (int d = 0; d < 8; d++) {
                Device device = TestDevices.register(hub, TestDevices.uniqueId("eh-proc"));
                DeviceClient client = TestDevices.connect(device);
                clients.add(client);
                for (int i = 0; i < 3; i++) {
                    String body = "proc-" + device.getDeviceId() + "-" + i;
                    client.sendEvent(new Message(body));
                    expected.add(body);
                }
            }
            deadline = System.nanoTime() + WAIT_NANOS;
            while (!processedBy.keySet().containsAll(expected) && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertTrue(processedBy.keySet().containsAll(expected), "processed " + processedBy.size() + " of " + expected.size()
                    + "; errors " + errors);
            assertEquals(Set.of("p1", "p2"), new HashSet<>(processedBy.values()), "both processors processed events");
        } finally {
            processors.forEach(EventProcessorClient::stop);
            for (DeviceClient c : clients) {
                c.close();
            }
        }
    }

    private static boolean balanced(InMemoryCheckpointStore store) {
        Map<String, Integer> counts = owners(store);
        return store.ownership.size() == 4 && counts.size() == 2 && counts.values().stream().allMatch(c -> c == 2);
    }

    private static Map<String, Integer> owners(InMemoryCheckpointStore store) {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        store.ownership.values().forEach(o -> counts.merge(o.getOwnerId(), 1, Integer::sum));
        return counts;
    }
}
