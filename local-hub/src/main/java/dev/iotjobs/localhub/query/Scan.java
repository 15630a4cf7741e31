package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * Filters large in-memory document collections on all cores (parallel streams keep the encounter order of
 * ordered collections such as lists); small collections and plain iterables are scanned sequentially by the
 * callers.
 */
final class Scan {
    /** Collections at least this large are filtered in parallel. */
    static final int PARALLEL_THRESHOLD = 20_000;
    private static final boolean MULTI_CORE = Runtime.getRuntime().availableProcessors() > 1;

    private Scan() {
    }

    /** The documents as a collection worth splitting across cores, or null. */
    static Collection<? extends JsonNode> parallelCollection(Iterable<? extends JsonNode> documents) {
        if (MULTI_CORE && documents instanceof Collection<? extends JsonNode> c && c.size() >= PARALLEL_THRESHOLD) {
            return c;
        }
        return null;
    }

    static long count(Collection<? extends JsonNode> documents, Condition where) {
        if (where.isAlways()) {
            return documents.size();
        }
        return documents.parallelStream().filter(where::matches).count();
    }

    /** Matching object documents mapped to rows, in list order. */
    static List<ObjectNode> rows(Collection<? extends JsonNode> documents, Condition where,
            Function<JsonNode, ObjectNode> toRow) {
        return documents.parallelStream()
                .filter(d -> d instanceof ObjectNode && where.matches(d))
                .map(toRow)
                .toList();
    }
}
