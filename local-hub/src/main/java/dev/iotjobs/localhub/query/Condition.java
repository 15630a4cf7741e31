package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A compiled WHERE condition: the WHERE clause of a {@link Query}, or a job's {@code queryCondition}.
 * Immutable and thread-safe.
 */
public final class Condition {
    /** Matches every document (no WHERE clause, or a queryCondition of {@code "*"}). */
    public static final Condition ALWAYS = new Condition(null, "*");

    private final Eval eval;
    private final String text;

    Condition(Eval eval, String text) {
        this.eval = eval;
        this.text = text;
    }

    /**
     * Parses a job {@code queryCondition}: only the WHERE body ({@code deviceId IN ['a','b']}), evaluated
     * against device twins; {@code "*"} means every device.
     *
     * @throws dev.iotjobs.localhub.model.HubException (400) for a syntax error, an unknown function, a text
     *         over 8192 characters, or a full SELECT statement
     */
    public static Condition parse(String whereBody) {
        Errors.checkLength(whereBody);
        if (whereBody.trim().equals("*")) {
            return ALWAYS;
        }
        Ast.Expr expr = Parser.parseCondition(whereBody);
        return new Condition(new Compiler(Source.DEVICES).compile(expr), whereBody);
    }

    /** True only when the condition evaluates to Boolean true for the document. */
    public boolean matches(JsonNode document) {
        return eval == null || Values.isTrue(eval.eval(document));
    }

    /** True for {@link #ALWAYS}-like conditions that match everything without looking at the document. */
    public boolean isAlways() {
        return eval == null;
    }

    @Override
    public String toString() {
        return text;
    }
}
