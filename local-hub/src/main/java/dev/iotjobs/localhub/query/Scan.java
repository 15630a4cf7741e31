package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.RandomAccess;
import java.util.function.Function;

/**
 * Filters large in-memory document lists on all cores (parallel streams keep the list order); small or
 * non-list inputs are scanned sequentially by the callers.
 */
final class Scan {
    /** Lists at least this long are filtered in parallel. */
    static final int PARALLEL_THRESHOLD = 20_000;
    private static final boolean MULTI_CORE = Runtime.getRuntime().availableProcessors() > 1;

    private Scan() {
    }

    /** The documents as a list worth splitting across cores, or null. */
    @SuppressWarnings("unchecked")
    static List<? extends JsonNode> parallelList(Iterable<? extends JsonNode> documents) {
        if (MULTI_CORE && documents instanceof List<?> list && list instanceof RandomAccess
                && list.size() >= PARALLEL_THRESHOLD) {
            return (List<? extends JsonNode>) list;
        }
        return null;
    }

    static long count(List<? extends JsonNode> documents, Condition where) {
        if (where.isAlways()) {
            return documents.size();
        }
        return documents.parallelStream().filter(where::matches).count();
    }

    /** Matching object documents mapped to rows, in list order. */
    static List<ObjectNode> rows(List<? extends JsonNode> documents, Condition where,
            Function<JsonNode, ObjectNode> toRow) {
        return documents.parallelStream()
                .filter(d -> d instanceof ObjectNode && where.matches(d))
                .map(toRow)
                .toList();
    }
}
