package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;

/**
 * Aggregate state of one group. COUNT() counts documents; SUM/AVG/MIN/MAX consider only numeric values of
 * their path. SUM of no numbers is 0; AVG/MIN/MAX of no numbers are undefined (left out of the row).
 */
final class Accumulator {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final Projection.Column[] columns;
    private final JsonNode[] groupValues;
    private final boolean needsValues;
    private long count;
    private final double[] sums;
    private final long[] longSums;
    private final boolean[] integral;
    private final long[] numbers;
    private final JsonNode[] min;
    private final JsonNode[] max;

    Accumulator(Projection.Column[] columns, JsonNode[] groupValues) {
        this.columns = columns;
        this.groupValues = groupValues;
        int n = columns.length;
        sums = new double[n];
        longSums = new long[n];
        integral = new boolean[n];
        Arrays.fill(integral, true);
        numbers = new long[n];
        min = new JsonNode[n];
        max = new JsonNode[n];
        boolean values = false;
        for (Projection.Column c : columns) {
            values |= c.aggregate() != null && c.aggregate() != Ast.Aggregate.COUNT;
        }
        needsValues = values;
    }

    /** True when only COUNT() is computed, so documents need not be looked at after filtering. */
    boolean countOnly() {
        return !needsValues;
    }

    /** Adds documents already counted elsewhere; only valid when {@link #countOnly()}. */
    void addCount(long documents) {
        count += documents;
    }

    void add(JsonNode doc) {
        count++;
        if (!needsValues) {
            return;
        }
        for (int i = 0; i < columns.length; i++) {
            Ast.Aggregate agg = columns[i].aggregate();
            if (agg == null || agg == Ast.Aggregate.COUNT) {
                continue;
            }
            JsonNode v = columns[i].path().resolve(doc);
            if (v == null || !v.isNumber()) {
                continue;
            }
            numbers[i]++;
            sums[i] += v.doubleValue();
            if (integral[i] && v.isIntegralNumber() && v.canConvertToLong()) {
                try {
                    longSums[i] = Math.addExact(longSums[i], v.longValue());
                } catch (ArithmeticException overflow) {
                    integral[i] = false;
                }
            } else {
                integral[i] = false;
            }
            if (min[i] == null || Values.compare(v, min[i]) < 0) {
                min[i] = v;
            }
            if (max[i] == null || Values.compare(v, max[i]) > 0) {
                max[i] = v;
            }
        }
    }

    ObjectNode row() {
        ObjectNode row = F.objectNode();
        for (int i = 0; i < columns.length; i++) {
            Projection.Column c = columns[i];
            if (c.aggregate() == null) {
                JsonNode v = groupValues == null ? null : groupValues[c.groupIndex()];
                if (v != null) {
                    row.set(c.key(), v.isContainerNode() ? v.deepCopy() : v);
                }
                continue;
            }
            switch (c.aggregate()) {
                case COUNT -> putIntegral(row, c.key(), count);
                case SUM -> {
                    if (integral[i]) {
                        putIntegral(row, c.key(), longSums[i]);
                    } else {
                        row.put(c.key(), sums[i]);
                    }
                }
                case AVG -> {
                    if (numbers[i] > 0) {
                        row.put(c.key(), sums[i] / numbers[i]);
                    }
                }
                case MIN -> putIfDefined(row, c.key(), min[i]);
                case MAX -> putIfDefined(row, c.key(), max[i]);
                default -> throw new IllegalStateException();
            }
        }
        return row;
    }

    /** Integers that fit in an int are stored as int nodes, as a JSON parser would produce them. */
    private static void putIntegral(ObjectNode row, String key, long v) {
        if (v == (int) v) {
            row.put(key, (int) v);
        } else {
            row.put(key, v);
        }
    }

    private static void putIfDefined(ObjectNode row, String key, JsonNode v) {
        if (v != null) {
            row.set(key, v);
        }
    }
}
