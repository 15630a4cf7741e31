package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns an expression tree into a tree of {@link Eval} closures, once per query. Paths are compiled to
 * {@link PathRef}s, literals to constants, IN lists to hash sets, functions are bound.
 */
final class Compiler {
    private final Source source;

    Compiler(Source source) {
        this.source = source;
    }

    Eval compile(Ast.Expr expr) {
        if (expr instanceof Ast.Literal lit) {
            JsonNode value = lit.value();
            return doc -> value;
        }
        if (expr instanceof Ast.Path path) {
            PathRef ref = PathRef.compile(path, source);
            return ref::resolve;
        }
        if (expr instanceof Ast.Call call) {
            List<Eval> args = new ArrayList<>();
            for (Ast.Expr a : call.args()) {
                args.add(compile(a));
            }
            return Functions.compile(call, args);
        }
        if (expr instanceof Ast.Not not) {
            Eval operand = compile(not.operand());
            return doc -> {
                JsonNode v = operand.eval(doc);
                return v != null && v.isBoolean() ? Values.bool(!v.booleanValue()) : null;
            };
        }
        if (expr instanceof Ast.Negate neg) {
            Eval operand = compile(neg.operand());
            return doc -> Values.negate(operand.eval(doc));
        }
        if (expr instanceof Ast.Logical logical) {
            return logical(logical);
        }
        if (expr instanceof Ast.Compare cmp) {
            return compare(cmp);
        }
        if (expr instanceof Ast.Arith arith) {
            Eval l = compile(arith.left());
            Eval r = compile(arith.right());
            Ast.ArithOp op = arith.op();
            return doc -> Values.arith(op, l.eval(doc), r.eval(doc));
        }
        if (expr instanceof Ast.In in) {
            return in(in);
        }
        throw new IllegalStateException("unknown expression " + expr);
    }

    /** Three-valued AND/OR: false AND x = false, true OR x = true, otherwise undefined unless both Boolean. */
    private Eval logical(Ast.Logical logical) {
        Eval l = compile(logical.left());
        Eval r = compile(logical.right());
        if (logical.op() == Ast.LogicalOp.AND) {
            return doc -> {
                JsonNode a = l.eval(doc);
                if (Values.isFalse(a)) {
                    return Values.FALSE;
                }
                JsonNode b = r.eval(doc);
                if (Values.isFalse(b)) {
                    return Values.FALSE;
                }
                return Values.isTrue(a) && Values.isTrue(b) ? Values.TRUE : null;
            };
        }
        return doc -> {
            JsonNode a = l.eval(doc);
            if (Values.isTrue(a)) {
                return Values.TRUE;
            }
            JsonNode b = r.eval(doc);
            if (Values.isTrue(b)) {
                return Values.TRUE;
            }
            return Values.isFalse(a) && Values.isFalse(b) ? Values.FALSE : null;
        };
    }

    private Eval compare(Ast.Compare cmp) {
        Eval l = compile(cmp.left());
        Eval r = compile(cmp.right());
        return switch (cmp.op()) {
            case EQ -> doc -> {
                int c = Values.compare(l.eval(doc), r.eval(doc));
                return c == Values.INCOMPARABLE ? null : Values.bool(c == 0);
            };
            case NE -> doc -> {
                int c = Values.compare(l.eval(doc), r.eval(doc));
                return c == Values.INCOMPARABLE ? null : Values.bool(c != 0);
            };
            case LT -> doc -> {
                int c = Values.compare(l.eval(doc), r.eval(doc));
                return c == Values.INCOMPARABLE ? null : Values.bool(c < 0);
            };
            case GT -> doc -> {
                int c = Values.compare(l.eval(doc), r.eval(doc));
                return c == Values.INCOMPARABLE ? null : Values.bool(c > 0);
            };
            case LE -> doc -> {
                int c = Values.compare(l.eval(doc), r.eval(doc));
                return c == Values.INCOMPARABLE ? null : Values.bool(c <= 0);
            };
            case GE -> doc -> {
                int c = Values.compare(l.eval(doc), r.eval(doc));
                return c == Values.INCOMPARABLE ? null : Values.bool(c >= 0);
            };
        };
    }

    /**
     * IN / NIN over a literal list, looked up in hash sets. An undefined operand, or an object/array operand,
     * gives undefined (so NIN is not true for a missing property).
     */
    private Eval in(Ast.In in) {
        Eval operand = compile(in.operand());
        Set<String> strings = new HashSet<>();
        Set<Double> numbers = new HashSet<>();
        boolean[] flags = new boolean[3]; // false, true, null
        for (JsonNode v : in.values()) {
            if (v.isTextual()) {
                strings.add(v.textValue());
            } else if (v.isNumber()) {
                numbers.add(v.doubleValue() + 0.0);
            } else if (v.isBoolean()) {
                flags[v.booleanValue() ? 1 : 0] = true;
            } else if (v.isNull()) {
                flags[2] = true;
            }
        }
        boolean negated = in.negated();
        return doc -> {
            JsonNode v = operand.eval(doc);
            if (v == null || v.isContainerNode()) {
                return null;
            }
            boolean found;
            if (v.isTextual()) {
                found = strings.contains(v.textValue());
            } else if (v.isNumber()) {
                found = numbers.contains(v.doubleValue() + 0.0);
            } else if (v.isBoolean()) {
                found = flags[v.booleanValue() ? 1 : 0];
            } else {
                found = v.isNull() && flags[2];
            }
            return Values.bool(found != negated);
        };
    }
}
