package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A property path compiled once: segments pre-split, system names replaced by their canonical spelling.
 *
 * <p>Name matching: root/system names ({@code deviceId}, {@code tags}, {@code properties.desired},
 * {@code $version}, ...) are matched case-insensitively by rewriting them to the canonical spelling at
 * compile time and then looked up exactly. Other (user) keys are looked up with their exact case first and,
 * only if that key is absent, case-insensitively (first match in document order).
 */
final class PathRef {
    private static final Map<String, String> ROOT = canonical(
            "deviceId", "moduleId", "etag", "deviceEtag", "version", "status", "statusReason",
            "statusUpdateTime", "connectionState", "lastActivityTime", "cloudToDeviceMessageCount",
            "authenticationType", "x509Thumbprint", "modelId", "capabilities", "tags", "properties",
            "deviceScope", "parentScopes", "configurations",
            "jobId", "jobType", "startTimeUtc", "endTimeUtc", "createdDateTimeUtc", "lastUpdatedDateTimeUtc",
            "outcome", "error");
    private static final Map<String, String> PROPERTIES = canonical("desired", "reported");
    private static final Map<String, String> DOLLAR = canonical(
            "$metadata", "$version", "$lastUpdated", "$lastUpdatedVersion", "$lastUpdatedBy",
            "$lastUpdatedByDigest");

    private final String[] names;
    private final boolean[] system;
    private final String text;

    private PathRef(String[] names, boolean[] system, String text) {
        this.names = names;
        this.system = system;
        this.text = text;
    }

    private static Map<String, String> canonical(String... names) {
        Map<String, String> map = new HashMap<>();
        for (String n : names) {
            map.put(n.toLowerCase(Locale.ROOT), n);
        }
        return map;
    }

    /**
     * Compiles a path for the given collection. For {@code devices.jobs} a leading {@code devices.jobs.}
     * prefix is dropped (both {@code devices.jobs.jobId} and {@code jobId} work); likewise
     * {@code devices.modules.} for module twins.
     */
    static PathRef compile(Ast.Path path, Source source) {
        List<String> segs = new ArrayList<>(path.segments());
        if (segs.size() > 2 && segs.get(0).equalsIgnoreCase("devices")
                && ((source == Source.DEVICES_JOBS && segs.get(1).equalsIgnoreCase("jobs"))
                || (source == Source.DEVICES_MODULES && segs.get(1).equalsIgnoreCase("modules")))) {
            segs = segs.subList(2, segs.size());
        }
        String[] names = new String[segs.size()];
        boolean[] system = new boolean[segs.size()];
        for (int i = 0; i < names.length; i++) {
            String raw = segs.get(i);
            String lower = raw.toLowerCase(Locale.ROOT);
            String canon = null;
            if (i == 0) {
                canon = ROOT.get(lower);
            } else if (i == 1 && names[0].equals("properties")) {
                canon = PROPERTIES.get(lower);
            }
            if (canon == null && raw.startsWith("$")) {
                canon = DOLLAR.get(lower);
            }
            names[i] = canon != null ? canon : raw;
            system[i] = canon != null;
        }
        return new PathRef(names, system, String.join(".", names));
    }

    /** The value at this path, or null when undefined (missing, or a non-object on the way). */
    JsonNode resolve(JsonNode document) {
        JsonNode cur = document;
        for (int i = 0; i < names.length; i++) {
            if (cur == null || !cur.isObject()) {
                return null;
            }
            JsonNode next = cur.get(names[i]);
            if (next == null && !system[i]) {
                next = ignoreCase(cur, names[i]);
            }
            cur = next;
        }
        return cur;
    }

    private static JsonNode ignoreCase(JsonNode object, String name) {
        if (object.size() == 0) {
            return null;
        }
        CaseInsensitiveFinder finder = FINDER.get();
        return finder.find((ObjectNode) object, name);
    }

    private static final ThreadLocal<CaseInsensitiveFinder> FINDER =
            ThreadLocal.withInitial(CaseInsensitiveFinder::new);

    /**
     * Allocation-free case-insensitive key search (LinkedHashMap's entry-set forEach needs no iterator);
     * one reusable instance per thread.
     */
    private static final class CaseInsensitiveFinder implements Consumer<Map.Entry<String, JsonNode>> {
        private String name;
        private JsonNode found;

        JsonNode find(ObjectNode object, String wanted) {
            name = wanted;
            found = null;
            object.properties().forEach(this);
            JsonNode result = found;
            found = null;
            name = null;
            return result;
        }

        @Override
        public void accept(Map.Entry<String, JsonNode> e) {
            if (found == null && e.getKey().equalsIgnoreCase(name)) {
                found = e.getValue();
            }
        }
    }

    /** Key used for this path in projection rows when there is no alias: the (canonical) last segment. */
    String outputKey() {
        return names[names.length - 1];
    }

    /** Canonical dotted text, used to match SELECT items against GROUP BY paths. */
    String text() {
        return text;
    }

    /** Case-insensitive identity of the path (for SELECT-vs-GROUP BY matching). */
    String key() {
        return text.toLowerCase(Locale.ROOT);
    }
}
