package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The compiled SELECT list: plain projections, or aggregates with optional GROUP BY. */
final class Projection {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /**
     * One output column.
     *
     * @param path       the projected/aggregated path (null for COUNT())
     * @param groupIndex for a plain column in an aggregate query: index of the GROUP BY path it repeats
     */
    record Column(String key, PathRef path, Ast.Aggregate aggregate, int groupIndex) {
    }

    private final Column[] columns;
    private final PathRef[] groupBy;
    private final boolean aggregate;

    private Projection(Column[] columns, PathRef[] groupBy, boolean aggregate) {
        this.columns = columns;
        this.groupBy = groupBy;
        this.aggregate = aggregate;
    }

    static Projection compile(Ast.Statement st) {
        Source source = st.source();
        PathRef[] groupBy = new PathRef[st.groupBy().size()];
        for (int i = 0; i < groupBy.length; i++) {
            groupBy[i] = PathRef.compile(st.groupBy().get(i), source);
        }
        boolean aggregate = groupBy.length > 0 || st.items().stream().anyMatch(Ast.SelectItem::isAggregate);
        List<Column> columns = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        int unnamed = 0;
        for (Ast.SelectItem item : st.items()) {
            PathRef path = item.path() == null ? null : PathRef.compile(item.path(), source);
            String key = item.alias() != null ? item.alias()
                    : item.isAggregate() ? "$" + (++unnamed) : path.outputKey();
            if (!keys.add(key)) {
                throw Errors.semantic(item.position(), "duplicate result name '" + key + "'; use AS to rename");
            }
            int groupIndex = -1;
            if (aggregate && !item.isAggregate()) {
                groupIndex = indexOf(groupBy, path);
                if (groupIndex < 0) {
                    throw Errors.semantic(item.position(), "'" + item.path().text()
                            + "' must appear in GROUP BY or be used inside an aggregate function");
                }
            }
            columns.add(new Column(key, path, item.aggregate(), groupIndex));
        }
        return new Projection(columns.toArray(new Column[0]), groupBy, aggregate);
    }

    private static int indexOf(PathRef[] paths, PathRef path) {
        for (int i = 0; i < paths.length; i++) {
            if (paths[i].key().equals(path.key())) {
                return i;
            }
        }
        return -1;
    }

    boolean isAggregate() {
        return aggregate;
    }

    /** One projection row; undefined values are left out, objects and arrays are copied. */
    ObjectNode project(JsonNode doc) {
        ObjectNode row = F.objectNode();
        for (Column c : columns) {
            put(row, c.key(), c.path().resolve(doc));
        }
        return row;
    }

    private static void put(ObjectNode row, String key, JsonNode value) {
        if (value != null) {
            row.set(key, value.isContainerNode() ? value.deepCopy() : value);
        }
    }

    /** Filters, groups (in order of first appearance), aggregates, and applies the TOP limit to the groups. */
    List<ObjectNode> aggregate(Iterable<? extends JsonNode> documents, Condition where, long limit) {
        List<ObjectNode> rows = new ArrayList<>();
        if (groupBy.length == 0) {
            Accumulator acc = new Accumulator(columns, null);
            Collection<? extends JsonNode> big = acc.countOnly() ? Scan.parallelCollection(documents) : null;
            if (big != null) {
                acc.addCount(Scan.count(big, where));
            } else {
                for (JsonNode doc : documents) {
                    if (where.matches(doc)) {
                        acc.add(doc);
                    }
                }
            }
            if (limit > 0) {
                rows.add(acc.row());
            }
            return rows;
        }
        Map<GroupKey, Accumulator> groups = new LinkedHashMap<>();
        for (JsonNode doc : documents) {
            if (!where.matches(doc)) {
                continue;
            }
            JsonNode[] values = new JsonNode[groupBy.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = groupBy[i].resolve(doc);
            }
            groups.computeIfAbsent(GroupKey.of(values), k -> new Accumulator(columns, values)).add(doc);
        }
        for (Accumulator acc : groups.values()) {
            if (rows.size() >= limit) {
                break;
            }
            rows.add(acc.row());
        }
        return rows;
    }
}
