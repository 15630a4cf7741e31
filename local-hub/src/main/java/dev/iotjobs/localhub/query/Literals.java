package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.math.BigDecimal;

/** Number literal conversion. */
final class Literals {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private Literals() {
    }

    static JsonNode number(Token t) {
        String s = t.text();
        try {
            if (s.length() > 2 && (s.charAt(1) == 'x' || s.charAt(1) == 'X')) {
                return F.numberNode(Long.parseLong(s.substring(2), 16));
            }
            if (s.indexOf('.') < 0 && s.indexOf('e') < 0 && s.indexOf('E') < 0) {
                return F.numberNode(Long.parseLong(s));
            }
            return F.numberNode(Double.parseDouble(s));
        } catch (NumberFormatException e) {
            try {
                return F.numberNode(new BigDecimal(s).doubleValue());
            } catch (NumberFormatException e2) {
                throw Errors.syntax(t.position(), "invalid number '" + s + "'");
            }
        }
    }

    static JsonNode negate(JsonNode n) {
        if (n.isIntegralNumber() && n.canConvertToLong() && n.longValue() != Long.MIN_VALUE) {
            return F.numberNode(-n.longValue());
        }
        return F.numberNode(-n.doubleValue());
    }
}
