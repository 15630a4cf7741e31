package dev.iotjobs.localhub.json;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.model.HubException;

import java.time.Instant;
import java.util.UUID;

/** IoT Hub's error document, the same for every protocol adapter (REST wraps it, MQTT sends it as is). */
public final class ErrorJson {
    private ErrorJson() {
    }

    /** {@code {"errorCode":404001,"trackingId":..,"message":..,"info":{},"timestampUtc":..}}. */
    public static ObjectNode of(HubException e) {
        ObjectNode n = Json.object();
        n.put("errorCode", e.errorCode().code());
        n.put("trackingId", UUID.randomUUID().toString().replace("-", ""));
        n.put("message", e.getMessage());
        n.putObject("info");
        n.put("timestampUtc", Json.time(Instant.now()));
        return n;
    }
}
