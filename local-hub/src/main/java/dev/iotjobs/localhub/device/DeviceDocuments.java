package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

/**
 * The documents clients see of a {@link Device}: its registry identity, its twin as the service and queries
 * see it, and its twin as the device sees it. Kept out of the model, as the stored form is (see
 * {@link DeviceCodec}): the wire shapes follow IoT Hub's API versions, the model follows the hub.
 */
final class DeviceDocuments {
    private DeviceDocuments() {
    }

    /** The registry (identity) JSON, as GET /devices/{id} returns it. */
    static ObjectNode identity(Device d) {
        ObjectNode n = Json.object();
        n.put("deviceId", d.id);
        n.put("generationId", d.generationId);
        n.put("etag", d.etag());
        n.put("connectionState", d.runtime.connected() ? "Connected" : "Disconnected");
        n.put("status", d.enabled ? "enabled" : "disabled");
        n.put("statusReason", d.statusReason);
        n.put("connectionStateUpdatedTime", Json.time(d.runtime.connectionStateUpdatedTime()));
        n.put("statusUpdatedTime", Json.time(d.statusUpdatedTime));
        n.put("lastActivityTime", Json.time(d.runtime.lastActivityTime()));
        n.put("cloudToDeviceMessageCount", d.runtime.cloudToDeviceMessageCount());
        ObjectNode auth = n.putObject("authentication");
        ObjectNode sym = auth.putObject("symmetricKey");
        sym.put("primaryKey", d.primaryKey);
        sym.put("secondaryKey", d.secondaryKey);
        ObjectNode x509 = auth.putObject("x509Thumbprint");
        x509.put("primaryThumbprint", d.primaryThumbprint);
        x509.put("secondaryThumbprint", d.secondaryThumbprint);
        auth.put("type", d.authType);
        n.putObject("capabilities").put("iotEdge", d.iotEdge);
        if (d.deviceScope != null) {
            n.put("deviceScope", d.deviceScope);
        }
        n.set("parentScopes", d.parentScopes.deepCopy());
        return n;
    }

    /**
     * The twin JSON, as GET /twins/{id} returns it and as queries see it. Built on each call (nothing is
     * cached per device, so a million idle twins cost little memory) and shares the immutable tags and
     * property nodes: callers must not modify the returned node.
     */
    static ObjectNode twin(Device d) {
        ObjectNode n = Json.object();
        n.put("deviceId", d.deviceId());
        if (d.moduleId() != null) {
            n.put("moduleId", d.moduleId()); // a module twin (devices.modules rows too)
        }
        n.put("etag", d.twinEtag());
        n.put("deviceEtag", d.etag());
        n.put("version", d.twinVersion);
        n.put("status", d.enabled ? "enabled" : "disabled");
        n.put("statusReason", d.statusReason);
        n.put("statusUpdateTime", Json.time(d.statusUpdatedTime));
        n.put("connectionState", d.runtime.connected() ? "Connected" : "Disconnected");
        n.put("lastActivityTime", Json.time(d.runtime.lastActivityTime()));
        n.put("cloudToDeviceMessageCount", d.runtime.cloudToDeviceMessageCount());
        n.put("authenticationType", d.authType);
        ObjectNode x509 = n.putObject("x509Thumbprint");
        x509.put("primaryThumbprint", d.primaryThumbprint);
        x509.put("secondaryThumbprint", d.secondaryThumbprint);
        n.put("modelId", "");
        n.putObject("capabilities").put("iotEdge", d.iotEdge);
        if (d.deviceScope != null) {
            n.put("deviceScope", d.deviceScope);
        }
        n.set("tags", d.tags);
        ObjectNode properties = n.putObject("properties");
        properties.set("desired", d.desired.render(true));
        properties.set("reported", d.reported.render(true));
        return n;
    }

    /** The twin as a device sees it over MQTT: desired and reported with $version, no tags. */
    static ObjectNode deviceTwin(Device d) {
        ObjectNode n = Json.object();
        n.set("desired", d.desired.render(false));
        n.set("reported", d.reported.render(false));
        return n;
    }
}
