package dev.iotjobs.localhub.telemetry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import java.nio.channels.ClosedChannelException;

/**
 * One partition of the telemetry log: append-only segment files {@code {first sequence number}.seg} in its own
 * directory, and an in-memory index (file position and enqueued time of every retained event, 12 bytes each).
 * <p>
 * Record: {@code int length, int crc32c, long sequenceNumber, long enqueuedMillis, message bytes}; the CRC covers
 * everything after it. On open, a torn or corrupt tail (a crash mid-write) is cut off: it was never acknowledged,
 * because the log acknowledges only after {@code force}. At least one segment file always exists, the last one
 * possibly empty, so the next sequence number survives a restart even when retention removed every event.
 * <p>
 * Threads: the log's writer thread appends, forces, rolls and trims; readers (any thread) read committed events.
 * The segment list is guarded by this object's lock; file reads are positional and need no lock.
 */
final class PartitionLog implements AutoCloseable {
    static final int HEADER = 4 + 4 + 8 + 8;
    private static final String SUFFIX = ".seg";

    private final int partition;
    private final Path directory;
    private final long segmentBytes;
    private final List<Segment> segments = new ArrayList<>();
    /** Sequence number the next appended event gets. Writer thread only. */
    private long nextSequence;
    private long lastEnqueuedMillis;
    /** Events below this are durable and readable. */
    private volatile long committedNext;
    /** Events below this have expired (older than the retention), though their segment file may still exist. */
    private volatile long retainedFrom;

    PartitionLog(int partition, Path directory, long segmentBytes) {
        this.partition = partition;
        this.directory = directory;
        this.segmentBytes = segmentBytes;
        try {
            Files.createDirectories(directory);
            List<Long> bases;
            try (Stream<Path> files = Files.list(directory)) {
                bases = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SUFFIX))
                        .map(n -> Long.parseLong(n.substring(0, n.length() - SUFFIX.length()))).sorted().toList();
            }
            for (long base : bases) {
                if (!segments.isEmpty() && base != segments.get(segments.size() - 1).next()) {
                    // A gap means a later segment survived a damaged earlier one: keep numbering from the later one.
                    segments.get(segments.size() - 1).channel.close();
                    segments.remove(segments.size() - 1);
                }
                segments.add(Segment.open(path(base), base));
            }
            if (segments.isEmpty()) {
                segments.add(Segment.open(path(0), 0));
            }
            Segment last = segments.get(segments.size() - 1);
            nextSequence = last.next();
            lastEnqueuedMillis = segments.stream().mapToLong(Segment::lastMillis).max().orElse(0);
            committedNext = nextSequence;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open telemetry partition " + partition + " in " + directory, e);
        }
    }

    private Path path(long base) {
        return directory.resolve(String.format("%020d%s", base, SUFFIX));
    }

    int partition() {
        return partition;
    }

    /**
     * Writer thread: appends records (durable only after {@link #force()}, readable after {@link #publish()}) and
     * adds each one's enqueued time to {@code enqueuedOut}.
     */
    void append(List<byte[]> messages, long nowMillis, ByteBuffer scratch, List<Instant> enqueuedOut) throws IOException {
        long enqueued = Math.max(nowMillis, lastEnqueuedMillis);
        lastEnqueuedMillis = enqueued;
        Segment segment = active();
        if (segment.written >= segmentBytes && segment.count > 0) {
            segment = roll();
        }
        long[] ends = new long[messages.size()];
        ByteBuffer buffer = scratch;
        buffer.clear();
        CRC32C crc = new CRC32C();
        for (int i = 0; i < messages.size(); i++) {
            byte[] message = messages.get(i);
            int length = HEADER + message.length;
            if (buffer.remaining() < length) {
                buffer.flip();
                segment.write(buffer);
                buffer = ByteBuffer.allocate(Math.max(scratch.capacity(), length));
            }
            int start = buffer.position();
            buffer.putInt(length).putInt(0).putLong(nextSequence + i).putLong(enqueued).put(message);
            crc.reset();
            crc.update(buffer.array(), start + 8, length - 8);
            buffer.putInt(start + 4, (int) crc.getValue());
            ends[i] = segment.written + buffer.position();
            enqueuedOut.add(Instant.ofEpochMilli(enqueued));
        }
        buffer.flip();
        segment.write(buffer);
        synchronized (this) {
            for (long end : ends) {
                segment.index(end, enqueued);
            }
        }
        nextSequence += messages.size();
    }

    /** Writer thread: makes appended records durable. */
    void force() throws IOException {
        active().channel.force(false);
    }

    /** Writer thread, after {@link #force()}: the appended records become readable. */
    void publish() {
        committedNext = nextSequence;
    }

    private synchronized Segment active() {
        return segments.get(segments.size() - 1);
    }

    private synchronized Segment roll() throws IOException {
        Segment previous = segments.get(segments.size() - 1);
        previous.channel.force(false);
        Segment next = Segment.open(path(nextSequence), nextSequence);
        segments.add(next);
        return next;
    }

    /**
     * Writer thread: applies retention. Events enqueued before {@code oldestMillis} are no longer served at once;
     * files go whole: a segment once all its events are older than that, or while the partition is above
     * {@code maxBytes} (oldest first). The active segment is rolled when its first event has expired, so that its
     * file can go in turn. The last segment always stays (it carries the next sequence number across restarts).
     */
    void trim(long oldestMillis, long maxBytes) throws IOException {
        Segment active = active();
        if (active.count > 0 && active.millis[0] < oldestMillis) {
            roll();
        }
        while (true) {
            Segment drop;
            synchronized (this) {
                if (segments.size() <= 1) {
                    break;
                }
                Segment oldest = segments.get(0);
                long total = segments.stream().mapToLong(s -> s.size).sum();
                if (oldest.lastMillis() >= oldestMillis && total <= maxBytes) {
                    break;
                }
                drop = segments.remove(0);
            }
            drop.channel.close();
            Files.deleteIfExists(drop.path);
        }
        retainedFrom = sequenceAtOrAfter(oldestMillis, true);
    }

    /** First retained sequence number (equals {@link #nextSequence()} when the partition is empty). */
    synchronized long beginSequence() {
        long limit = committedNext;
        for (Segment s : segments) {
            if (s.count > 0) {
                return Math.min(limit, Math.max(s.base, retainedFrom));
            }
        }
        return limit;
    }

    /** Sequence number of the next event (so the last one is this minus one). */
    long nextSequence() {
        return committedNext;
    }

    /** Enqueued time of the last event, or null when none was ever enqueued (or the hub kept none). */
    synchronized Instant lastEnqueuedTime() {
        long last = committedNext - 1;
        Segment s = find(last);
        return s == null ? null : Instant.ofEpochMilli(s.millis[(int) (last - s.base)]);
    }

    /** First retained sequence number whose event was enqueued at or after {@code millis} (exclusive: after). */
    synchronized long sequenceAtOrAfter(long millis, boolean inclusive) {
        long limit = committedNext;
        for (Segment s : segments) {
            int count = (int) Math.min(s.count, limit - s.base);
            if (count <= 0 || s.millis[count - 1] < millis || !inclusive && s.millis[count - 1] == millis) {
                continue;
            }
            int lo = 0;
            int hi = count - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                boolean ok = inclusive ? s.millis[mid] >= millis : s.millis[mid] > millis;
                if (ok) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return s.base + lo;
        }
        return limit;
    }

    private Segment find(long sequence) {
        for (int i = segments.size() - 1; i >= 0; i--) {
            Segment s = segments.get(i);
            if (sequence >= s.base && sequence < s.base + s.count) {
                return s;
            }
        }
        return null;
    }

    /**
     * Reads up to {@code max} committed events from {@code fromSequence} on (or from the first retained one, when
     * that is later: retention removed the others).
     */
    List<TelemetryEvent> read(long fromSequence, int max) {
        List<TelemetryEvent> events = new ArrayList<>(Math.min(max, 256));
        long limit = committedNext;
        long sequence = Math.max(fromSequence, beginSequence());
        while (events.size() < max && sequence < limit) {
            Segment s;
            int first;
            long start;
            long end;
            int count;
            synchronized (this) {
                s = find(sequence);
                if (s == null) {
                    sequence = beginSequence();
                    if (sequence >= limit || find(sequence) == null) {
                        break;
                    }
                    continue;
                }
                first = (int) (sequence - s.base);
                count = (int) Math.min(Math.min(max - events.size(), limit - sequence), s.count - first);
                start = s.start(first);
                end = s.ends[first + count - 1];
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) (end - start));
            try {
                while (buffer.hasRemaining()) {
                    if (s.channel.read(buffer, start + buffer.position()) < 0) {
                        throw new IOException("unexpected end of " + s.path);
                    }
                }
                buffer.flip();
                for (int i = 0; i < count; i++) {
                    int length = buffer.getInt();
                    buffer.getInt();
                    long seq = buffer.getLong();
                    long millis = buffer.getLong();
                    ByteBuffer body = buffer.slice(buffer.position(), length - HEADER);
                    buffer.position(buffer.position() + length - HEADER);
                    events.add(new TelemetryEvent(partition, seq, Instant.ofEpochMilli(millis), TelemetryCodec.decode(body)));
                }
            } catch (ClosedChannelException e) {
                // Retention removed the segment meanwhile: go on from the first retained event.
                sequence = Math.max(sequence, beginSequence());
                continue;
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read telemetry partition " + partition, e);
            }
            sequence += count;
        }
        return events;
    }

    synchronized long bytes() {
        return segments.stream().mapToLong(s -> s.size).sum();
    }

    @Override
    public synchronized void close() throws IOException {
        for (Segment s : segments) {
            s.channel.close();
        }
    }

    /** One segment file and its index. */
    private static final class Segment {
        final Path path;
        final long base;
        final FileChannel channel;
        /** Bytes written (durable or not). Writer thread only. */
        long written;
        /** Indexed records (durable or not; readers never go past the committed sequence number). */
        int count;
        /** End of each indexed record; a record starts where the previous one ends (or at 0). */
        long size;
        int[] ends = new int[1024];
        long[] millis = new long[1024];

        private Segment(Path path, long base, FileChannel channel) {
            this.path = path;
            this.base = base;
            this.channel = channel;
        }

        static Segment open(Path path, long base) throws IOException {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            Segment s = new Segment(path, base, channel);
            s.recover();
            return s;
        }

        long next() {
            return base + count;
        }

        long lastMillis() {
            return count == 0 ? Long.MIN_VALUE : millis[count - 1];
        }

        /** Rebuilds the index from the file; cuts off a torn or corrupt tail. */
        private void recover() throws IOException {
            long fileSize = channel.size();
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            long position = 0;
            CRC32C crc = new CRC32C();
            while (position + HEADER <= fileSize) {
                header.clear();
                channel.read(header, position);
                header.flip();
                int length = header.getInt();
                int sum = header.getInt();
                long seq = header.getLong();
                long enqueued = header.getLong();
                if (length < HEADER || position + length > fileSize || seq != base + count) {
                    break;
                }
                ByteBuffer record = ByteBuffer.allocate(length - 8);
                channel.read(record, position + 8);
                crc.reset();
                crc.update(record.array(), 0, record.capacity());
                if ((int) crc.getValue() != sum) {
                    break;
                }
                position += length;
                index(position, enqueued);
            }
            written = position;
            if (position < fileSize) {
                channel.truncate(position);
                channel.force(true);
            }
        }

        /** Records the next event's end position and enqueued time (under the partition's lock once open). */
        void index(long end, long enqueuedMillis) {
            if (count == ends.length) {
                ends = Arrays.copyOf(ends, count * 2);
                millis = Arrays.copyOf(millis, count * 2);
            }
            ends[count] = (int) end;
            millis[count] = enqueuedMillis;
            count++;
            size = end;
        }

        long start(int index) {
            return index == 0 ? 0 : ends[index - 1];
        }

        void write(ByteBuffer buffer) throws IOException {
            while (buffer.hasRemaining()) {
                written += channel.write(buffer, written);
            }
        }
    }
}
