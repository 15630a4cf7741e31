package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.iotjobs.localhub.json.Json;

import java.io.IOException;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A device's twin document for queries and jobs, rendered lazily: a condition such as
 * {@code tags.building = '43'} reads the device's own immutable tags node and renders nothing, which is
 * what lets a query scan a million twins in well under a second. Anything that needs the whole document
 * (serialization, iteration) gets {@link DeviceDocuments#twin}, rendered once per view. Read-only.
 */
final class TwinView extends ObjectNode {
    private final transient Device device;
    private transient ObjectNode full;
    private transient ObjectNode properties;

    TwinView(Device device) {
        super(Json.NODES, Collections.emptyMap());
        this.device = device;
    }

    private ObjectNode full() {
        if (full == null) {
            full = DeviceDocuments.twin(device);
        }
        return full;
    }

    @Override
    public JsonNode get(String name) {
        switch (name) {
            case "tags":
                return device.tags;
            case "deviceId":
                return TextNode.valueOf(device.deviceId());
            case "properties":
                if (properties == null) {
                    properties = Json.object();
                    properties.set("desired", device.desired.render(true));
                    properties.set("reported", device.reported.render(true));
                }
                return properties;
            default:
                return full().get(name);
        }
    }

    @Override
    public JsonNode path(String name) {
        JsonNode n = get(name);
        return n == null ? MissingNode.getInstance() : n;
    }

    @Override
    public int size() {
        return full().size();
    }

    @Override
    public boolean isEmpty() {
        return false;
    }

    @Override
    public Iterator<JsonNode> elements() {
        return full().elements();
    }

    @Override
    public Iterator<String> fieldNames() {
        return full().fieldNames();
    }

    @Override
    public Iterator<Map.Entry<String, JsonNode>> fields() {
        return full().fields();
    }

    @Override
    public Set<Map.Entry<String, JsonNode>> properties() {
        return full().properties();
    }

    @Override
    public ObjectNode deepCopy() {
        return full().deepCopy();
    }

    @Override
    public void serialize(JsonGenerator g, SerializerProvider provider) throws IOException {
        full().serialize(g, provider);
    }

    @Override
    public void serializeWithType(JsonGenerator g, SerializerProvider provider, TypeSerializer typeSer) throws IOException {
        full().serializeWithType(g, provider, typeSer);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JsonNode other && full().equals(other instanceof TwinView v ? v.full() : other);
    }

    @Override
    public int hashCode() {
        return full().hashCode();
    }

    @Override
    public String toString() {
        return full().toString();
    }
}
