package dev.iotjobs.localhub.method;

import dev.iotjobs.localhub.concurrent.Futures;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;
import dev.iotjobs.localhub.device.DeviceRegistry;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Direct methods: waits for the device to be reachable (connect timeout), sends the request, and waits
 * for the answer (response timeout). Fully asynchronous: no thread waits for a device.
 */
public final class MethodService {
    private final DeviceRegistry registry;
    private final DeviceConnections connections;

    public MethodService(DeviceRegistry registry, DeviceConnections connections) {
        this.registry = registry;
        this.connections = connections;
    }

    /**
     * Invokes a method. Fails with 404001 (unknown device), 404103 (not online within the connect
     * timeout, or online but not subscribed to methods) or 504101 (no answer within the response timeout).
     */
    public CompletableFuture<MethodResponse> invoke(String deviceId, MethodRequest request) {
        try {
            registry.get(deviceId);
        } catch (HubException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> ready;
        if (connections.isMethodReady(deviceId)) {
            ready = CompletableFuture.completedFuture(null);
        } else if (request.connectTimeout().isZero()) {
            return CompletableFuture.failedFuture(ErrorCode.DEVICE_NOT_ONLINE.exception("Device " + deviceId
                    + " is not online."));
        } else {
            ready = connections.awaitMethodReady(deviceId, request.connectTimeout()).exceptionally(e -> {
                throw ErrorCode.DEVICE_NOT_ONLINE.exception("Timed out waiting for device " + deviceId
                        + " to connect (" + request.connectTimeout().toSeconds() + " s).");
            });
        }
        return ready.thenCompose(ignored -> send(deviceId, request));
    }

    private CompletableFuture<MethodResponse> send(String deviceId, MethodRequest request) {
        CompletableFuture<MethodResponse> answer =
                connections.sendMethodRequest(deviceId, request.methodName(), Json.string(request.payload()));
        CompletableFuture<MethodResponse> result = answer.copy()
                .orTimeout(request.responseTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> {
                    Throwable cause = Futures.unwrap(e);
                    if (cause instanceof TimeoutException) {
                        throw ErrorCode.GATEWAY_TIMEOUT.exception("Timed out waiting for the response from device "
                                + deviceId + ".");
                    }
                    if (cause instanceof HubException h) {
                        throw h;
                    }
                    if (cause instanceof CancellationException) {
                        throw ErrorCode.DEVICE_NOT_ONLINE.exception("Device " + deviceId + " disconnected.");
                    }
                    throw new CompletionException(cause);
                });
        // Once the caller has its result (answer or timeout), the pending request is released.
        result.whenComplete((r, e) -> answer.cancel(false));
        return result;
    }
}
