package dev.iotjobs.localhub.mqtt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.device.DesiredPropertiesListener;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.method.DeviceConnections;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.session.SessionStore;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * All MQTT device sessions, keyed by device id. This is the MQTT side of the core's outbound ports:
 * method requests and desired-property notifications go out through here.
 */
public final class SessionRegistry implements DeviceConnections, DesiredPropertiesListener {
    private final Map<String, DeviceSession> sessions = new ConcurrentHashMap<>();
    private final SessionStore store;

    /** Sessions are durable like IoT Hub's (see {@link SessionStore}): they are read back here. */
    public SessionRegistry(SessionStore store) {
        this.store = store;
        store.loadAll((deviceId, filters) -> session(deviceId).subscriptions.addAll(filters));
    }

    /** Commits a session's subscriptions (blocking: call from a worker thread). */
    void persist(DeviceSession s) {
        store.save(s.deviceId, s.subscriptions);
    }
    private final Map<String, List<CompletableFuture<Void>>> readyWaiters = new ConcurrentHashMap<>();

    DeviceSession session(String deviceId) {
        return sessions.computeIfAbsent(deviceId, DeviceSession::new);
    }

    /** Forgets a device entirely (deleted or disabled): its connection is closed, its session dropped. */
    public void drop(String deviceId) {
        DeviceSession s = sessions.remove(deviceId);
        store.delete(deviceId);
        if (s != null) {
            s.close();
            s.pendingMethods.values().forEach(f -> f.cancel(false));
        }
    }

    public int connectedCount() {
        return (int) sessions.values().stream().filter(DeviceSession::connected).count();
    }

    /** Wakes method callers waiting for this device (called after connect and after a methods SUBSCRIBE). */
    void methodReadinessChanged(DeviceSession s) {
        if (!s.methodReady()) {
            return;
        }
        List<CompletableFuture<Void>> waiters = readyWaiters.remove(s.deviceId);
        if (waiters != null) {
            waiters.forEach(w -> w.complete(null));
        }
    }

    @Override
    public boolean isMethodReady(String deviceId) {
        DeviceSession s = sessions.get(deviceId);
        return s != null && s.methodReady();
    }

    @Override
    public CompletableFuture<Void> awaitMethodReady(String deviceId, Duration timeout) {
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        readyWaiters.computeIfAbsent(deviceId, k -> new CopyOnWriteArrayList<>()).add(waiter);
        // Re-check after registering: the device may have become ready in between.
        if (isMethodReady(deviceId)) {
            waiter.complete(null);
        }
        waiter.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            List<CompletableFuture<Void>> list = readyWaiters.get(deviceId);
            if (list != null) {
                list.remove(waiter);
            }
        });
        return waiter;
    }

    @Override
    public CompletableFuture<MethodResponse> sendMethodRequest(String deviceId, String methodName, String payloadJson) {
        DeviceSession s = sessions.get(deviceId);
        CompletableFuture<MethodResponse> answer = new CompletableFuture<>();
        if (s == null || !s.methodReady()) {
            answer.cancel(false);
            return answer;
        }
        String rid = s.newRid();
        s.pendingMethods.put(rid, answer);
        answer.whenComplete((r, e) -> s.pendingMethods.remove(rid));
        if (!s.publish(DeviceTopics.methodRequest(methodName, rid), payloadJson.getBytes(StandardCharsets.UTF_8))) {
            answer.cancel(false);
        }
        return answer;
    }

    @Override
    public void desiredChanged(String deviceId, Supplier<ObjectNode> patchWithVersion) {
        DeviceSession s = sessions.get(deviceId);
        if (s != null && s.desiredSubscribed()) {
            ObjectNode patch = patchWithVersion.get();
            s.publish(DeviceTopics.desiredPatch(patch.get("$version").asLong()), Json.bytes(patch));
        }
    }
}
