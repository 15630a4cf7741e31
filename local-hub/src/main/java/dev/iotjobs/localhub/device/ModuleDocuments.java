package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

/**
 * The registry document of a module, as {@code GET /devices/{id}/modules/{moduleId}} returns it: a device's
 * identity without status, capabilities or scopes, plus {@code moduleId} and {@code managedBy} (which
 * iot-service-client 2.1.9 requires in a module response). A module's twin is {@link DeviceDocuments#twin},
 * which adds {@code moduleId} for modules.
 */
final class ModuleDocuments {
    private ModuleDocuments() {
    }

    static ObjectNode identity(Device m) {
        ObjectNode n = Json.object();
        n.put("moduleId", m.moduleId());
        n.put("managedBy", m.managedBy);
        n.put("deviceId", m.deviceId());
        n.put("generationId", m.generationId);
        n.put("etag", m.etag());
        n.put("connectionState", m.runtime.connected() ? "Connected" : "Disconnected");
        n.put("connectionStateUpdatedTime", Json.time(m.runtime.connectionStateUpdatedTime()));
        n.put("lastActivityTime", Json.time(m.runtime.lastActivityTime()));
        n.put("cloudToDeviceMessageCount", 0);
        ObjectNode auth = n.putObject("authentication");
        ObjectNode sym = auth.putObject("symmetricKey");
        sym.put("primaryKey", m.primaryKey);
        sym.put("secondaryKey", m.secondaryKey);
        ObjectNode x509 = auth.putObject("x509Thumbprint");
        x509.put("primaryThumbprint", m.primaryThumbprint);
        x509.put("secondaryThumbprint", m.secondaryThumbprint);
        auth.put("type", m.authType);
        return n;
    }
}
