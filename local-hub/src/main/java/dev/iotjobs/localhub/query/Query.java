package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A parsed and compiled IoT Hub query ({@code SELECT ... FROM devices[.modules|.jobs] [WHERE ...]
 * [GROUP BY ...]}). Parse once, execute many times; immutable and thread-safe.
 */
public final class Query {
    private final String text;
    private final Ast.Statement statement;
    private final Condition where;
    private final Projection projection;

    private Query(String text, Ast.Statement statement, Condition where, Projection projection) {
        this.text = text;
        this.statement = statement;
        this.where = where;
        this.projection = projection;
    }

    /**
     * Parses and compiles a query.
     *
     * @throws dev.iotjobs.localhub.model.HubException (400, see README for the code) whose message names the
     *         problem and its 1-based position, e.g. {@code Syntax error at position 17: expected ...}
     */
    public static Query parse(String text) {
        Errors.checkLength(text);
        Ast.Statement st = Parser.parseStatement(text);
        Validator.check(st);
        Condition where = st.where() == null ? Condition.ALWAYS
                : new Condition(new Compiler(st.source()).compile(st.where()), text);
        Projection projection = st.isSelectStar() ? null : Projection.compile(st);
        return new Query(text, st, where, projection);
    }

    public Source source() {
        return statement.source();
    }

    /** True for plain {@code SELECT *}: the result rows are the matching documents themselves. */
    public boolean isSelectStar() {
        return statement.isSelectStar();
    }

    /** True when the result rows are aggregates ({@code COUNT()} etc., or GROUP BY). */
    public boolean isAggregate() {
        return projection != null && projection.isAggregate();
    }

    /** The TOP n limit, or -1 when there is none. */
    public long top() {
        return statement.top();
    }

    /** The WHERE condition; {@link Condition#ALWAYS} when there is no WHERE clause. */
    public Condition where() {
        return where;
    }

    /**
     * Runs the query over the documents: WHERE filter, then projection or COUNT()/GROUP BY, then TOP n.
     * For {@code SELECT *} the rows are the document instances themselves (non-object documents are skipped);
     * projection rows are new objects.
     */
    public List<ObjectNode> execute(Iterable<? extends JsonNode> documents) {
        long limit = statement.top() < 0 ? Long.MAX_VALUE : statement.top();
        if (projection != null && projection.isAggregate()) {
            return projection.aggregate(documents, where, limit);
        }
        List<ObjectNode> rows = new ArrayList<>();
        if (limit == 0) {
            return rows;
        }
        Collection<? extends JsonNode> big = limit == Long.MAX_VALUE ? Scan.parallelCollection(documents) : null;
        if (big != null) {
            return new ArrayList<>(Scan.rows(big, where,
                    projection == null ? d -> (ObjectNode) d : projection::project));
        }
        for (JsonNode doc : documents) {
            if (!(doc instanceof ObjectNode obj) || !where.matches(doc)) {
                continue;
            }
            rows.add(projection == null ? obj : projection.project(doc));
            if (rows.size() >= limit) {
                break;
            }
        }
        return rows;
    }

    @Override
    public String toString() {
        return text;
    }
}
