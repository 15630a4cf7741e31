package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/** Type semantics: comparison, truth, arithmetic. {@code null} stands for undefined throughout. */
final class Values {
    static final BooleanNode TRUE = BooleanNode.TRUE;
    static final BooleanNode FALSE = BooleanNode.FALSE;
    /** Result of {@link #compare} when the two values cannot be compared. */
    static final int INCOMPARABLE = Integer.MIN_VALUE;

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Values() {
    }

    static BooleanNode bool(boolean b) {
        return b ? TRUE : FALSE;
    }

    /** Only Boolean true selects a document. */
    static boolean isTrue(JsonNode v) {
        return v != null && v.isBoolean() && v.booleanValue();
    }

    static boolean isFalse(JsonNode v) {
        return v != null && v.isBoolean() && !v.booleanValue();
    }

    /**
     * Compares two primitive values of the same type: numbers numerically (int/float alike), strings
     * ordinally (case-sensitive), booleans false &lt; true, null = null. Anything else (undefined,
     * different types, objects, arrays) is {@link #INCOMPARABLE}.
     */
    static int compare(JsonNode a, JsonNode b) {
        if (a == null || b == null) {
            return INCOMPARABLE;
        }
        if (a.isNumber() && b.isNumber()) {
            if (a.isIntegralNumber() && b.isIntegralNumber() && a.canConvertToLong() && b.canConvertToLong()) {
                return Long.compare(a.longValue(), b.longValue());
            }
            double x = a.doubleValue();
            double y = b.doubleValue();
            if (Double.isNaN(x) || Double.isNaN(y)) {
                return INCOMPARABLE;
            }
            return x < y ? -1 : x > y ? 1 : 0;
        }
        if (a.isTextual() && b.isTextual()) {
            return Integer.signum(a.textValue().compareTo(b.textValue()));
        }
        if (a.isBoolean() && b.isBoolean()) {
            return Boolean.compare(a.booleanValue(), b.booleanValue());
        }
        if (a.isNull() && b.isNull()) {
            return 0;
        }
        return INCOMPARABLE;
    }

    /** Arithmetic on two numbers; anything else, division by zero or NaN gives undefined. */
    static JsonNode arith(Ast.ArithOp op, JsonNode a, JsonNode b) {
        if (a == null || b == null || !a.isNumber() || !b.isNumber()) {
            return null;
        }
        boolean integral = a.isIntegralNumber() && b.isIntegralNumber() && a.canConvertToLong() && b.canConvertToLong();
        if (integral) {
            long x = a.longValue();
            long y = b.longValue();
            try {
                switch (op) {
                    case ADD:
                        return F.numberNode(Math.addExact(x, y));
                    case SUB:
                        return F.numberNode(Math.subtractExact(x, y));
                    case MUL:
                        return F.numberNode(Math.multiplyExact(x, y));
                    case DIV:
                        if (y == 0) {
                            return null;
                        }
                        if (x % y == 0 && !(x == Long.MIN_VALUE && y == -1)) {
                            return F.numberNode(x / y);
                        }
                        break;
                    case MOD:
                        return y == 0 ? null : F.numberNode(x % y);
                    default:
                        break;
                }
            } catch (ArithmeticException overflow) {
                // fall through to floating point
            }
        }
        double x = a.doubleValue();
        double y = b.doubleValue();
        double r = switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> y == 0 ? Double.NaN : x / y;
            case MOD -> y == 0 ? Double.NaN : x % y;
        };
        return Double.isNaN(r) || Double.isInfinite(r) ? null : F.numberNode(r);
    }

    static JsonNode negate(JsonNode v) {
        if (v == null || !v.isNumber()) {
            return null;
        }
        return Literals.negate(v);
    }
}
