package dev.iotjobs.localhub.method;

import com.fasterxml.jackson.databind.JsonNode;

/** A device's answer to a direct method: its own status code and JSON payload (may be JSON null). */
public record MethodResponse(int status, JsonNode payload) {
}
