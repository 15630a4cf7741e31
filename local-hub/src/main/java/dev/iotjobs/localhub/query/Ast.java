package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** The syntax tree produced by {@link Parser}. Positions are 1-based character offsets in the query. */
final class Ast {
    private Ast() {
    }

    /** An expression (condition or value). */
    sealed interface Expr permits Literal, Path, Call, Not, Negate, Logical, Compare, Arith, In {
        int position();
    }

    /** A literal; {@code value == null} stands for {@code undefined}. */
    record Literal(JsonNode value, int position) implements Expr {
    }

    /** A property path; {@code segments} are the names as written ({@code $}-names keep their {@code $}). */
    record Path(List<String> segments, int position) implements Expr {
        String text() {
            return String.join(".", segments);
        }
    }

    record Call(String name, List<Expr> args, int position) implements Expr {
    }

    record Not(Expr operand, int position) implements Expr {
    }

    /** Unary minus. */
    record Negate(Expr operand, int position) implements Expr {
    }

    enum LogicalOp { AND, OR }

    record Logical(LogicalOp op, Expr left, Expr right, int position) implements Expr {
    }

    enum CompareOp { EQ, NE, LT, GT, LE, GE }

    record Compare(CompareOp op, Expr left, Expr right, int position) implements Expr {
    }

    enum ArithOp { ADD, SUB, MUL, DIV, MOD }

    record Arith(ArithOp op, Expr left, Expr right, int position) implements Expr {
    }

    /** {@code operand IN [..]} or, when {@code negated}, {@code operand NIN [..]}. */
    record In(Expr operand, List<JsonNode> values, boolean negated, int position) implements Expr {
    }

    enum Aggregate { COUNT, SUM, AVG, MIN, MAX }

    /**
     * One SELECT list item: a path, or an aggregate ({@code path} is null for COUNT()).
     *
     * @param alias the {@code AS} name or null
     */
    record SelectItem(Path path, Aggregate aggregate, String alias, int position) {
        boolean isAggregate() {
            return aggregate != null;
        }
    }

    /**
     * A parsed SELECT statement.
     *
     * @param top     the TOP n limit or -1
     * @param items   the projections; empty for {@code SELECT *}
     * @param where   the WHERE condition or null
     * @param groupBy the GROUP BY paths (possibly empty)
     */
    record Statement(long top, List<SelectItem> items, Source source, Expr where, List<Path> groupBy) {
        boolean isSelectStar() {
            return items.isEmpty();
        }
    }
}
