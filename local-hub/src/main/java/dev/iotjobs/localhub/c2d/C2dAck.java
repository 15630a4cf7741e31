package dev.iotjobs.localhub.c2d;

import java.util.Locale;

/**
 * The feedback a cloud-to-device message asks for (its {@code iothub-ack} property, IoT Hub's "Message feedback"
 * in "Send cloud-to-device messages from an IoT hub"). The Java service SDK sends {@code full} unless told otherwise.
 */
public enum C2dAck {
    NONE, POSITIVE, NEGATIVE, FULL;

    /** {@code none}, {@code positive}/{@code positiveonly}, {@code negative}/{@code negativeonly}, {@code full}; null: none. */
    public static C2dAck parse(String value) {
        if (value == null || value.isEmpty()) {
            return NONE;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "none" -> NONE;
            case "positive", "positiveonly" -> POSITIVE;
            case "negative", "negativeonly" -> NEGATIVE;
            case "full" -> FULL;
            default -> throw dev.iotjobs.localhub.model.ErrorCode.ARGUMENT_INVALID.exception("iothub-ack '" + value
                    + "' is not one of none, positive, negative, full.");
        };
    }

    boolean wantsPositive() {
        return this == POSITIVE || this == FULL;
    }

    boolean wantsNegative() {
        return this == NEGATIVE || this == FULL;
    }

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
