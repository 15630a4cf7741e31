package dev.iotjobs.localhub.c2d;

import java.time.Duration;

/**
 * IoT Hub's cloud-to-device knobs ("Cloud-to-device configuration options" in "Send cloud-to-device messages from
 * an IoT hub"), with its defaults in {@link #DEFAULTS}.
 *
 * @param maxQueueDepth       messages a device's queue holds (50)
 * @param maxMessageBytes     size of one message (64 KB)
 * @param defaultTtl          time to live of a message without absolute-expiry-time (1 hour)
 * @param maxDeliveryCount    abandons after which a message is dead-lettered (10)
 * @param lockDuration        how long a received message stays invisible (60 s, not configurable on IoT Hub)
 * @param feedbackBatchSize   records per feedback message (64)
 * @param feedbackInterval    longest wait before records are sent as a smaller batch (IoT Hub: 15 s)
 * @param feedbackTtl         how long a feedback message waits to be read (1 hour)
 * @param feedbackLock        how long a received feedback message stays invisible (60 s)
 * @param recentFeedback      feedback records the hub remembers for its console, hub-wide (1,000; not an IoT Hub
 *                            knob: IoT Hub shows no feedback but to its feedback receivers)
 */
public record C2dSettings(int maxQueueDepth, int maxMessageBytes, Duration defaultTtl, int maxDeliveryCount,
                          Duration lockDuration, int feedbackBatchSize, Duration feedbackInterval, Duration feedbackTtl,
                          Duration feedbackLock, int recentFeedback) {
    public static final C2dSettings DEFAULTS = new C2dSettings(50, 64 * 1024, Duration.ofHours(1), 10,
            Duration.ofSeconds(60), 64, Duration.ofSeconds(15), Duration.ofHours(1), Duration.ofSeconds(60), 1000);

    public C2dSettings {
        if (maxDeliveryCount < 1 || maxDeliveryCount > 100) {
            throw new IllegalArgumentException("maxDeliveryCount must be 1..100 (IoT Hub's range): " + maxDeliveryCount);
        }
        if (defaultTtl.isNegative() || defaultTtl.isZero() || feedbackInterval.isNegative() || feedbackInterval.isZero()
                || lockDuration.isNegative() || lockDuration.isZero()) {
            throw new IllegalArgumentException("defaultTtl, feedbackInterval and lockDuration must be positive");
        }
        if (recentFeedback < 0 || recentFeedback > 100_000) {
            throw new IllegalArgumentException("recentFeedback must be 0..100000: " + recentFeedback);
        }
    }

    /** A shorter (or longer) lock than IoT Hub's fixed 60 s: for tests that wait for a lock to expire. */
    public C2dSettings withLockDuration(Duration value) {
        return new C2dSettings(maxQueueDepth, maxMessageBytes, defaultTtl, maxDeliveryCount, value, feedbackBatchSize,
                feedbackInterval, feedbackTtl, feedbackLock, recentFeedback);
    }

    public C2dSettings withDefaultTtl(Duration value) {
        return new C2dSettings(maxQueueDepth, maxMessageBytes, value, maxDeliveryCount, lockDuration, feedbackBatchSize,
                feedbackInterval, feedbackTtl, feedbackLock, recentFeedback);
    }

    public C2dSettings withMaxDeliveryCount(int value) {
        return new C2dSettings(maxQueueDepth, maxMessageBytes, defaultTtl, value, lockDuration, feedbackBatchSize,
                feedbackInterval, feedbackTtl, feedbackLock, recentFeedback);
    }

    public C2dSettings withFeedbackInterval(Duration value) {
        return new C2dSettings(maxQueueDepth, maxMessageBytes, defaultTtl, maxDeliveryCount, lockDuration,
                feedbackBatchSize, value, feedbackTtl, feedbackLock, recentFeedback);
    }

    public C2dSettings withRecentFeedback(int value) {
        return new C2dSettings(maxQueueDepth, maxMessageBytes, defaultTtl, maxDeliveryCount, lockDuration,
                feedbackBatchSize, feedbackInterval, feedbackTtl, feedbackLock, value);
    }
}
