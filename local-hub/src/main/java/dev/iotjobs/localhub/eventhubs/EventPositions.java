package dev.iotjobs.localhub.eventhubs;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The start position of a receiver, from the selector filter Event Hubs clients attach with
 * ({@code apache.org:selector-filter:string}): {@code amqp.annotation.x-opt-offset > '-1'} (earliest),
 * {@code > '@latest'} (latest), {@code >= '12'} (an offset, inclusive), {@code amqp.annotation.x-opt-sequence-number
 * > '5'}, {@code amqp.annotation.x-opt-enqueued-time > '1700000000000'} (epoch milliseconds).
 */
record EventPositions(Kind kind, long value, boolean inclusive) {
    private static final Pattern EXPRESSION = Pattern.compile(
            "\\s*amqp\\.annotation\\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\\s*>(=?)\\s*'([^']*)'\\s*");

    enum Kind { EARLIEST, LATEST, SEQUENCE, ENQUEUED_TIME }

    static final EventPositions LATEST = new EventPositions(Kind.LATEST, 0, false);

    /** The position of an expression; throws IllegalArgumentException naming what is wrong. */
    static EventPositions parse(String expression) {
        Matcher m = EXPRESSION.matcher(expression);
        if (!m.matches()) {
            throw new IllegalArgumentException("Unsupported selector filter '" + expression + "': expected "
                    + "amqp.annotation.x-opt-offset, x-opt-sequence-number or x-opt-enqueued-time with > or >= and a quoted value.");
        }
        boolean inclusive = !m.group(2).isEmpty();
        String value = m.group(3);
        try {
            switch (m.group(1)) {
                case "x-opt-offset":
                    if (value.equals("@latest")) {
                        return LATEST;
                    }
                    long offset = Long.parseLong(value);
                    if (offset < 0) {
                        return new EventPositions(Kind.EARLIEST, 0, true);
                    }
                    // Offsets are sequence numbers here (see TelemetryEvent#offset).
                    return new EventPositions(Kind.SEQUENCE, offset, inclusive);
                case "x-opt-sequence-number":
                    long sequence = Long.parseLong(value);
                    return sequence < 0 && !inclusive ? new EventPositions(Kind.EARLIEST, 0, true)
                            : new EventPositions(Kind.SEQUENCE, sequence, inclusive);
                default:
                    return new EventPositions(Kind.ENQUEUED_TIME, Long.parseLong(value), inclusive);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("The selector filter's value '" + value + "' is not a number.");
        }
    }
}
