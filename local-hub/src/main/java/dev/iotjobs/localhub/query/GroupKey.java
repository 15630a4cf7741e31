package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;

/**
 * Identity of a GROUP BY group. Values are normalised so that numbers group numerically (2 and 2.0 are one
 * group), strings case-sensitively, and undefined (missing) is a group of its own, distinct from null.
 */
final class GroupKey {
    private static final Object UNDEFINED = new Object();
    private static final Object NULL = new Object();

    private final Object[] parts;
    private final int hash;

    private GroupKey(Object[] parts) {
        this.parts = parts;
        this.hash = Arrays.hashCode(parts);
    }

    static GroupKey of(JsonNode[] values) {
        Object[] parts = new Object[values.length];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = values[i];
            if (v == null) {
                parts[i] = UNDEFINED;
            } else if (v.isNull()) {
                parts[i] = NULL;
            } else if (v.isNumber()) {
                parts[i] = v.doubleValue() + 0.0;
            } else if (v.isTextual()) {
                parts[i] = v.textValue();
            } else if (v.isBoolean()) {
                parts[i] = v.booleanValue();
            } else {
                parts[i] = v; // objects/arrays: Jackson's deep equality
            }
        }
        return new GroupKey(parts);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GroupKey other && Arrays.equals(parts, other.parts);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
