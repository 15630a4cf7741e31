package dev.iotjobs.localhub.telemetry;

import dev.iotjobs.localhub.model.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.zip.CRC32;

/**
 * The hub's telemetry stream: a durable, partitioned log of every device-to-cloud message, which the Event
 * Hubs-compatible endpoint serves as IoT Hub's built-in endpoint does ({@code messages/events}).
 * <p>
 * A message goes to the partition its device id hashes to (CRC-32 of the UTF-8 id, modulo the partition count:
 * stable across restarts, so one device's messages stay in order in one partition; a module's messages go with its
 * device's). {@link #append} encodes on the caller's thread; one writer thread appends everything queued meanwhile,
 * forces the touched partitions' files once (group commit) and only then completes the futures: acknowledged means
 * durable. Retention (age and size cap) removes whole segment files, checked after writes and every second.
 * <p>
 * Files: {@code {directory}/created} (the event hub's creation time) and one directory per partition
 * ({@link PartitionLog}). The partition count is fixed once the log exists (as on IoT Hub); opening it with another
 * count fails with a message saying so.
 */
public final class TelemetryLog implements TelemetrySink, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TelemetryLog.class);
    /** Messages waiting for the writer at most; beyond it devices are throttled (IoT Hub: 429). */
    static final int MAX_QUEUED = 200_000;
    private static final int MAX_PER_COMMIT = 20_000;
    private static final long TRIM_INTERVAL_MILLIS = 1000;

    private record Pending(TelemetryMessage message, byte[] bytes, int partition, CompletableFuture<Void> done) {
    }

    private static final Pending STOP = new Pending(null, null, -1, null);

    private final Path directory;
    private final TelemetryOptions options;
    private final Clock clock;
    private final Instant createdAt;
    private final PartitionLog[] partitions;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
    private final List<IntConsumer> listeners = new CopyOnWriteArrayList<>();
    private final Thread writer;
    private volatile boolean closed;

    private TelemetryLog(Path directory, TelemetryOptions options, Clock clock) throws IOException {
        this.directory = directory;
        this.options = options;
        this.clock = clock;
        Files.createDirectories(directory);
        Path created = directory.resolve("created");
        Path partitionsFile = directory.resolve("partitions");
        if (Files.exists(partitionsFile)) {
            int existing = Integer.parseInt(Files.readString(partitionsFile, StandardCharsets.US_ASCII).trim());
            if (existing != options.partitions()) {
                throw new IllegalStateException("The telemetry log in " + directory + " has " + existing
                        + " partitions, not " + options.partitions() + " (a partition count is fixed once the log exists,"
                        + " as on IoT Hub): start the hub with --telemetry-partitions " + existing
                        + ", or delete " + directory + " to start a new, empty log.");
            }
        } else {
            Files.writeString(partitionsFile, Integer.toString(options.partitions()), StandardCharsets.US_ASCII);
        }
        if (!Files.exists(created)) {
            Files.writeString(created, clock.instant().toString(), StandardCharsets.US_ASCII);
        }
        createdAt = Instant.parse(Files.readString(created, StandardCharsets.US_ASCII).trim());
        partitions = new PartitionLog[options.partitions()];
        for (int p = 0; p < partitions.length; p++) {
            partitions[p] = new PartitionLog(p, directory.resolve(Integer.toString(p)), options.segmentBytes());
        }
        writer = new Thread(this::writeLoop, "local-hub-telemetry-writer");
        writer.setDaemon(true);
    }

    /** Opens (or creates) the log in {@code directory} and starts its writer. */
    public static TelemetryLog open(Path directory, TelemetryOptions options, Clock clock) {
        try {
            TelemetryLog log = new TelemetryLog(directory, options, clock);
            log.trim();
            log.writer.start();
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open the telemetry log in " + directory, e);
        }
    }

    @Override
    public CompletableFuture<Void> append(TelemetryMessage message) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(ErrorCode.SERVER_ERROR.exception("The hub is shutting down; send the message again later."));
            return done;
        }
        Pending pending = new Pending(message, TelemetryCodec.encode(message),
                partitionOf(message.identity().deviceId()), done);
        if (!queue.offer(pending)) {
            done.completeExceptionally(ErrorCode.THROTTLING.exception("More than " + MAX_QUEUED
                    + " device-to-cloud messages are waiting to be stored; send again later."));
        }
        return done;
    }

    /** The partition of a device's messages. */
    public int partitionOf(String deviceId) {
        CRC32 crc = new CRC32();
        crc.update(deviceId.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % partitions.length);
    }

    public int partitionCount() {
        return partitions.length;
    }

    public TelemetryOptions options() {
        return options;
    }

    /** When the log (the event hub) was created. */
    public Instant createdAt() {
        return createdAt;
    }

    /** A partition's state, as Event Hubs' partition properties report it. */
    public record PartitionInfo(int partition, long beginSequenceNumber, long lastEnqueuedSequenceNumber,
                                Instant lastEnqueuedTime, boolean empty) {
    }

    public PartitionInfo info(int partition) {
        PartitionLog log = partitions[partition];
        long next = log.nextSequence();
        long begin = log.beginSequence();
        Instant last = log.lastEnqueuedTime();
        return new PartitionInfo(partition, begin, next - 1, last, begin >= next);
    }

    /** The next sequence number of a partition (where a reader starting at "latest" begins). */
    public long nextSequence(int partition) {
        return partitions[partition].nextSequence();
    }

    /** The first retained sequence number of a partition (where a reader starting at "earliest" begins). */
    public long beginSequence(int partition) {
        return partitions[partition].beginSequence();
    }

    /** The first sequence number enqueued at/after (inclusive) or after (exclusive) a time. */
    public long sequenceAt(int partition, Instant time, boolean inclusive) {
        return partitions[partition].sequenceAtOrAfter(time.toEpochMilli(), inclusive);
    }

    /** Up to {@code max} durable events of a partition from {@code fromSequence} (or the first retained) on. */
    public List<TelemetryEvent> read(int partition, long fromSequence, int max) {
        return partitions[partition].read(fromSequence, max);
    }

    /** Bytes on disk, all partitions. */
    public long bytes() {
        long total = 0;
        for (PartitionLog p : partitions) {
            total += p.bytes();
        }
        return total;
    }

    /**
     * Calls {@code listener} with a partition's number, on the writer thread, after new events of it became
     * durable and readable. Listeners must return at once (hand the work to their own thread). Returns the
     * handle that removes it.
     */
    public AutoCloseable onAppended(IntConsumer listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>();
        ByteBuffer scratch = ByteBuffer.allocate(1 << 20);
        List<List<byte[]>> byPartition = new ArrayList<>();
        for (int p = 0; p < partitions.length; p++) {
            byPartition.add(new ArrayList<>());
        }
        List<Instant> times = new ArrayList<>();
        long lastTrim = System.currentTimeMillis();
        boolean stopping = false;
        while (!stopping) {
            try {
                Pending first = queue.poll(TRIM_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, MAX_PER_COMMIT - 1);
                }
            } catch (InterruptedException e) {
                stopping = true;
            }
            if (!batch.isEmpty() && batch.get(batch.size() - 1) == STOP) {
                batch.remove(batch.size() - 1);
                stopping = true;
            }
            if (!batch.isEmpty()) {
                commit(batch, byPartition, scratch, times);
                batch.clear();
            }
            if (System.currentTimeMillis() - lastTrim >= TRIM_INTERVAL_MILLIS) {
                lastTrim = System.currentTimeMillis();
                try {
                    trim();
                } catch (IOException | RuntimeException e) {
                    LOG.warn("Could not apply the telemetry retention", e);
                }
            }
        }
        // Whatever arrived after the stop request is refused: the device sends it again to the next hub.
        for (Pending p; (p = queue.poll()) != null; ) {
            if (p != STOP) {
                p.done.completeExceptionally(ErrorCode.SERVER_ERROR.exception("The hub is shutting down; send the message again later."));
            }
        }
    }

    private void commit(List<Pending> batch, List<List<byte[]>> byPartition, ByteBuffer scratch, List<Instant> times) {
        for (Pending p : batch) {
            byPartition.get(p.partition).add(p.bytes);
        }
        long now = clock.millis();
        boolean[] touched = new boolean[partitions.length];
        try {
            for (int p = 0; p < partitions.length; p++) {
                List<byte[]> messages = byPartition.get(p);
                if (!messages.isEmpty()) {
                    partitions[p].append(messages, now, scratch, times);
                    touched[p] = true;
                }
            }
            for (int p = 0; p < partitions.length; p++) {
                if (touched[p]) {
                    partitions[p].force();
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("Could not store {} device-to-cloud messages", batch.size(), e);
            for (Pending p : batch) {
                p.done.completeExceptionally(ErrorCode.SERVER_ERROR.exception(
                        "The hub could not store the message (" + e.getMessage() + "); send it again."));
            }
            return;
        } finally {
            byPartition.forEach(List::clear);
            times.clear();
        }
        for (int p = 0; p < partitions.length; p++) {
            if (touched[p]) {
                partitions[p].publish();
            }
        }
        for (Pending p : batch) {
            p.done.complete(null);
        }
        for (int p = 0; p < partitions.length; p++) {
            if (touched[p]) {
                for (IntConsumer listener : listeners) {
                    try {
                        listener.accept(p);
                    } catch (RuntimeException e) {
                        LOG.warn("A telemetry listener failed", e);
                    }
                }
            }
        }
    }

    private void trim() throws IOException {
        long oldest = clock.millis() - options.retention().toMillis();
        long perPartition = options.maxBytes() / partitions.length;
        for (PartitionLog p : partitions) {
            p.trim(oldest, perPartition);
        }
    }

    /** Stores what was acknowledged, refuses what was not yet queued, closes the files. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.put(STOP);
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (PartitionLog p : partitions) {
            try {
                p.close();
            } catch (IOException e) {
                LOG.warn("Could not close telemetry partition {}", p.partition(), e);
            }
        }
    }

    Path directory() {
        return directory;
    }
}
