package dev.iotjobs.localhub.c2d;

import java.util.Locale;

/**
 * One feedback record the hub produced, as the console shows it: IoT Hub's record fields ("Message feedback" in
 * "Send cloud-to-device messages from an IoT hub") and where the feedback message (batch) that carries it is.
 *
 * @param enqueuedTimeUtc    when the outcome happened (the record's own field, UTC text as IoT Hub writes it)
 * @param statusCode         Success, Expired, DeliveryCountExceeded, Rejected or Purged
 * @param batchId            the message id of the feedback message carrying it; null while {@link Batch#PENDING}
 * @param batchDeliveryCount how often feedback receivers abandoned that message
 */
public record FeedbackRecord(String originalMessageId, String enqueuedTimeUtc, String statusCode, String description,
                             String deviceId, String deviceGenerationId, String batchId, Batch batch,
                             int batchDeliveryCount) {

    /** Where the record's feedback message is. */
    public enum Batch {
        /** Not in a feedback message yet: it goes out with the next batch (64 records, or after the interval). */
        PENDING,
        /** In a feedback message that no feedback receiver holds. */
        WAITING,
        /** Received by a feedback receiver, not completed yet (it comes back if the receiver's lock lapses). */
        RECEIVED,
        /** Received and completed by a feedback receiver. */
        COMPLETED,
        /** Nobody read its feedback message before it expired. */
        EXPIRED,
        /** Its feedback message was abandoned too often and dropped. */
        DROPPED;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
