package dev.iotjobs.localhub.telemetry;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The telemetry log's shape and retention.
 *
 * @param partitions number of partitions, 1 to 32 (IoT Hub's built-in endpoint: fixed at creation, 4 by default)
 * @param retention  events older than this are removed (IoT Hub's default: 1 day; it allows up to 7)
 * @param maxBytes   the log's size cap on disk (all partitions together); the oldest events go first beyond it
 * @param consumerGroups consumer groups of the built-in endpoint besides {@code $Default} (names only: readers
 *                       keep their own checkpoints)
 */
public record TelemetryOptions(int partitions, Duration retention, long maxBytes, Set<String> consumerGroups) {
    public static final int DEFAULT_PARTITIONS = 4;
    public static final int MAX_PARTITIONS = 32;
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(1);
    /** 1 GiB: a day of a few hundred messages per second, and never more than a laptop can spare. */
    public static final long DEFAULT_MAX_BYTES = 1L << 30;
    /** The least size cap: a few segments per partition. */
    public static final long MIN_MAX_BYTES = 1L << 20;

    public static final TelemetryOptions DEFAULTS = new TelemetryOptions(DEFAULT_PARTITIONS, DEFAULT_RETENTION, DEFAULT_MAX_BYTES,
            Set.of());

    public TelemetryOptions {
        consumerGroups = consumerGroups == null ? Set.of() : Set.copyOf(consumerGroups);
        for (String group : consumerGroups) {
            if (!group.matches("[A-Za-z0-9$][A-Za-z0-9._-]{0,49}")) {
                throw new IllegalArgumentException("Consumer group '" + group + "' is not a valid name (letters, digits,"
                        + " '.', '_' and '-', at most 50 characters, as Event Hubs requires).");
            }
        }
        if (partitions < 1 || partitions > MAX_PARTITIONS) {
            throw new IllegalArgumentException("telemetry partitions must be 1 to " + MAX_PARTITIONS + ", not " + partitions);
        }
        if (retention == null || retention.isNegative() || retention.isZero()) {
            throw new IllegalArgumentException("telemetry retention must be positive: " + retention);
        }
        if (maxBytes < MIN_MAX_BYTES) {
            throw new IllegalArgumentException("the telemetry size cap must be at least " + MIN_MAX_BYTES + " bytes: " + maxBytes);
        }
    }

    public TelemetryOptions withPartitions(int value) {
        return new TelemetryOptions(value, retention, maxBytes, consumerGroups);
    }

    public TelemetryOptions withRetention(Duration value) {
        return new TelemetryOptions(partitions, value, maxBytes, consumerGroups);
    }

    public TelemetryOptions withMaxBytes(long value) {
        return new TelemetryOptions(partitions, retention, value, consumerGroups);
    }

    public TelemetryOptions withConsumerGroup(String group) {
        Set<String> groups = new LinkedHashSet<>(consumerGroups);
        groups.add(group);
        return new TelemetryOptions(partitions, retention, maxBytes, groups);
    }

    /** Segment size: a quarter of a partition's share of the cap (so trimming by size is gradual), at most 64 MiB. */
    long segmentBytes() {
        return Math.max(64 * 1024, Math.min(64L << 20, maxBytes / partitions / 4));
    }
}
