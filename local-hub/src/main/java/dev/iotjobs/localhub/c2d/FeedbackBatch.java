package dev.iotjobs.localhub.c2d;

import java.time.Instant;

/**
 * One feedback message, as IoT Hub sends it on {@code /messages/serviceBound/feedback}: a JSON array of records,
 * content type {@value #CONTENT_TYPE}. Locked to one reader until completed, abandoned or its lock expires.
 */
public record FeedbackBatch(String lockToken, String messageId, byte[] body, Instant enqueuedTime, int deliveryCount) {
    public static final String CONTENT_TYPE = "application/vnd.microsoft.iothub.feedback.json";
}
