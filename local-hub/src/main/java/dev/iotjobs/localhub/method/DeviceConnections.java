package dev.iotjobs.localhub.method;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Outbound port to connected devices, implemented by the MQTT adapter. The core never sees a socket.
 */
public interface DeviceConnections {

    /** True if the device is connected and subscribed to direct methods. */
    boolean isMethodReady(String deviceId);

    /**
     * Completes when the device is connected and subscribed to direct methods, or exceptionally with a
     * {@link java.util.concurrent.TimeoutException} after {@code timeout}.
     */
    CompletableFuture<Void> awaitMethodReady(String deviceId, Duration timeout);

    /**
     * Sends a method request to the connected device. The future completes with the device's answer; the
     * caller applies the response timeout and cancels the future, after which a late answer is dropped.
     *
     * @param payloadJson the JSON text of the payload ({@code null} literal for none)
     */
    CompletableFuture<MethodResponse> sendMethodRequest(String deviceId, String methodName, String payloadJson);
}
