package dev.iotjobs.localhub.amqp.iothub;

import dev.iotjobs.localhub.method.DeviceConnections;
import dev.iotjobs.localhub.method.MethodResponse;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Direct methods to a device on whichever transport it is connected with (MQTT or AMQP): the first that is ready.
 */
public final class EitherConnections implements DeviceConnections {
    private final DeviceConnections first;
    private final DeviceConnections second;

    public EitherConnections(DeviceConnections first, DeviceConnections second) {
        this.first = first;
        this.second = second;
    }

    @Override
    public boolean isMethodReady(String deviceId) {
        return first.isMethodReady(deviceId) || second.isMethodReady(deviceId);
    }

    @Override
    public CompletableFuture<Void> awaitMethodReady(String deviceId, Duration timeout) {
        CompletableFuture<Void> a = first.awaitMethodReady(deviceId, timeout);
        CompletableFuture<Void> b = second.awaitMethodReady(deviceId, timeout);
        CompletableFuture<Void> either = new CompletableFuture<>();
        a.whenComplete((v, e) -> {
            if (e == null) {
                either.complete(null);
            } else if (b.isCompletedExceptionally()) {
                either.completeExceptionally(e);
            }
        });
        b.whenComplete((v, e) -> {
            if (e == null) {
                either.complete(null);
            } else if (a.isCompletedExceptionally()) {
                either.completeExceptionally(e);
            }
        });
        either.whenComplete((v, e) -> {
            a.cancel(false);
            b.cancel(false);
        });
        return either;
    }

    @Override
    public CompletableFuture<MethodResponse> sendMethodRequest(String deviceId, String methodName, String payloadJson) {
        return first.isMethodReady(deviceId) ? first.sendMethodRequest(deviceId, methodName, payloadJson)
                : second.sendMethodRequest(deviceId, methodName, payloadJson);
    }
}
