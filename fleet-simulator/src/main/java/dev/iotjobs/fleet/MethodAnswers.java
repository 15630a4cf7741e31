package dev.iotjobs.fleet;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * How a simulated device answers a direct method, whatever protocol carries it: the tutorial's SimDevice answers
 * {@code lockDoor} with 200 and {@code {"Response":"lockDoor called successfully"}} and any other method with 404;
 * with failure injection ({@link FleetSimulator.Faults}) the devices chosen by their ids answer 500 or not at all,
 * and the others answer any method with 200.
 */
final class MethodAnswers {
    /** A device's answer: its status and JSON body. */
    record Answer(int status, byte[] body) {
    }

    private static final Answer LOCK_DOOR = new Answer(200,
            "{\"Response\":\"lockDoor called successfully\"}".getBytes(StandardCharsets.UTF_8));

    private MethodAnswers() {
    }

    /** The answer of device {@code deviceId} to method {@code name}, or null when it stays silent. */
    static Answer answer(FleetSimulator.Faults faults, String deviceId, String name) {
        if (faults != null && faults.methodSilent(deviceId)) {
            return null; // never answers: the hub's response timeout decides
        } else if (faults != null && faults.methodError(deviceId)) {
            return new Answer(500, json("'" + name + "' failed on this device"));
        } else if (faults != null) {
            return new Answer(200, json(name + " called successfully"));
        } else if ("lockDoor".equals(name)) {
            return LOCK_DOOR;
        }
        return new Answer(404, json("Unknown method '" + name + "'"));
    }

    /** {@code {"Response":"<text>"}}. */
    private static byte[] json(String response) {
        return new JsonObject().put("Response", response).encode().getBytes(StandardCharsets.UTF_8);
    }
}
