package dev.iotjobs.localhub.edge;

/**
 * What a device listens to. Remembered per identity across connections (IoT Hub's persistent sessions), until
 * the device starts a clean session or is deleted.
 */
public enum Feature {
    /** Direct method calls (MQTT {@code $iothub/methods/POST/#}, AMQP methods link pair). */
    METHODS,
    /** Desired-property notifications (MQTT {@code $iothub/twin/PATCH/properties/desired/#}). */
    DESIRED,
    /** Cloud-to-device messages (MQTT {@code devices/{id}/messages/devicebound/#}, AMQP C2D receiver link). */
    C2D
}
