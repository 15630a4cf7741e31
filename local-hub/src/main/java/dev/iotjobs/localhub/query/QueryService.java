package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.model.ContinuationToken;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs {@code POST /devices/query} over the hub's collections and pages the result the way QueryClient
 * drives it: a page size per request (at most {@link #MAX_PAGE_SIZE}) and an opaque continuation token that
 * is present only while more rows remain. Tokens encode an offset, so the next page may use another size.
 */
public final class QueryService {
    public static final int MAX_PAGE_SIZE = 100;
    private final Map<Source, Supplier<? extends Iterable<? extends JsonNode>>> sources = new EnumMap<>(Source.class);

    /** @param modules module twins ({@code FROM devices.modules}), each with {@code deviceId} and {@code moduleId} */
    public QueryService(Supplier<? extends Iterable<? extends JsonNode>> devices,
                        Supplier<? extends Iterable<? extends JsonNode>> modules,
                        Supplier<? extends Iterable<? extends JsonNode>> deviceJobs) {
        sources.put(Source.DEVICES, devices);
        sources.put(Source.DEVICES_MODULES, modules);
        sources.put(Source.DEVICES_JOBS, deviceJobs);
    }

    /** One page of results; {@code continuation} is null on the last page. */
    public record Page(List<ObjectNode> items, String continuation, String itemType) {
    }

    public Page query(String text, Integer requestedPageSize, String continuation) {
        Query query = Query.parse(text);
        ContinuationToken.offset(continuation); // a bad token is refused before the query runs
        int pageSize = requestedPageSize == null ? MAX_PAGE_SIZE : Math.max(1, Math.min(MAX_PAGE_SIZE, requestedPageSize));
        List<ObjectNode> rows = query.execute(sources.get(query.source()).get());
        ContinuationToken.Page<ObjectNode> page = ContinuationToken.page(rows, continuation, pageSize);
        return new Page(page.items(), page.continuation(), itemType(query));
    }

    private static String itemType(Query query) {
        if (!query.isSelectStar()) {
            return "raw";
        }
        return query.source() == Source.DEVICES_JOBS ? "deviceJob" : "twin";
    }
}
