package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/** The built-in functions usable in WHERE conditions, bound to their compiled arguments at compile time. */
final class Functions {
    private Functions() {
    }

    /** Names accepted, for error messages. */
    static final String SUPPORTED = "IS_DEFINED, IS_NULL, IS_BOOL, IS_NUMBER, IS_STRING, IS_OBJECT, IS_ARRAY,"
            + " IS_PRIMITIVE, STARTS_WITH/STARTSWITH, ENDS_WITH/ENDSWITH, CONTAINS";

    static Eval compile(Ast.Call call, List<Eval> args) {
        String name = call.name().toUpperCase(Locale.ROOT);
        return switch (name) {
            case "IS_DEFINED" -> {
                Eval a = unary(call, args);
                yield doc -> Values.bool(a.eval(doc) != null);
            }
            case "IS_NULL" -> typeTest(call, args, JsonNode::isNull);
            case "IS_BOOL" -> typeTest(call, args, JsonNode::isBoolean);
            case "IS_NUMBER" -> typeTest(call, args, JsonNode::isNumber);
            case "IS_STRING" -> typeTest(call, args, JsonNode::isTextual);
            case "IS_OBJECT" -> typeTest(call, args, JsonNode::isObject);
            case "IS_ARRAY" -> typeTest(call, args, JsonNode::isArray);
            case "IS_PRIMITIVE" -> typeTest(call, args, v -> v.isValueNode() || v.isNull());
            case "STARTS_WITH", "STARTSWITH" -> stringTest(call, args, String::startsWith);
            case "ENDS_WITH", "ENDSWITH" -> stringTest(call, args, String::endsWith);
            case "CONTAINS" -> stringTest(call, args, String::contains);
            default -> throw Errors.semantic(call.position(), "unknown function '" + call.name()
                    + "' (supported: " + SUPPORTED + ")");
        };
    }

    private static Eval unary(Ast.Call call, List<Eval> args) {
        arity(call, args, 1);
        return args.get(0);
    }

    private static void arity(Ast.Call call, List<Eval> args, int expected) {
        if (args.size() != expected) {
            throw Errors.semantic(call.position(), "function '" + call.name() + "' takes " + expected
                    + (expected == 1 ? " argument" : " arguments") + " but was given " + args.size());
        }
    }

    /** IS_xxx: false (not undefined) for an undefined argument, like Cosmos DB type checks. */
    private static Eval typeTest(Ast.Call call, List<Eval> args, Predicate<JsonNode> test) {
        Eval a = unary(call, args);
        return doc -> {
            JsonNode v = a.eval(doc);
            return Values.bool(v != null && test.test(v));
        };
    }

    /** String predicates: undefined unless both arguments are strings; case-sensitive. */
    private static Eval stringTest(Ast.Call call, List<Eval> args, BiPredicate<String, String> test) {
        arity(call, args, 2);
        Eval a = args.get(0);
        Eval b = args.get(1);
        return doc -> {
            JsonNode x = a.eval(doc);
            if (x == null || !x.isTextual()) {
                return null;
            }
            JsonNode y = b.eval(doc);
            if (y == null || !y.isTextual()) {
                return null;
            }
            return Values.bool(test.test(x.textValue(), y.textValue()));
        };
    }
}
