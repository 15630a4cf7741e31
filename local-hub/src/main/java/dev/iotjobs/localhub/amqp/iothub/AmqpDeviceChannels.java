package dev.iotjobs.localhub.amqp.iothub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.device.Device;
import dev.iotjobs.localhub.device.DesiredPropertiesListener;
import dev.iotjobs.localhub.device.DeviceRegistry;
import dev.iotjobs.localhub.method.DeviceConnections;
import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.IdentityKey;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The devices and modules connected over AMQP, by registry key ({@code deviceId} or {@code deviceId/moduleId}):
 * the AMQP side of the core's outbound ports (desired notifications, direct methods). One connection per
 * identity: a newer one takes it over.
 */
public final class AmqpDeviceChannels implements DesiredPropertiesListener, DeviceConnections {
    private final Map<String, AmqpDeviceChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, List<CompletableFuture<Void>>> readyWaiters = new ConcurrentHashMap<>();
    private final DeviceRegistry devices;
    private final DeviceRegistry modules;
    private final Clock clock;

    public AmqpDeviceChannels(DeviceRegistry devices, DeviceRegistry modules) {
        this.devices = devices;
        this.modules = modules;
        this.clock = devices.clock();
    }

    /** The channel of {@code identity} on connection {@code c} (called on c's event loop). */
    AmqpDeviceChannel attach(IotHubAmqpConnection c, IdentityKey identity) {
        String key = identity.toString();
        AmqpDeviceChannel current = channels.get(key);
        if (current != null && current.connection == c) {
            return current;
        }
        AmqpDeviceChannel channel = new AmqpDeviceChannel(identity, c);
        AmqpDeviceChannel previous = channels.put(key, channel);
        if (previous != null) {
            previous.steal();
        }
        connectionChanged(identity, true);
        c.onClose(() -> {
            channel.closed();
            if (channels.remove(key, channel)) {
                connectionChanged(identity, false);
            }
        });
        return channel;
    }

    private void connectionChanged(IdentityKey identity, boolean connected) {
        Device d = (identity.isModule() ? modules : devices).find(identity.toString());
        if (d != null) {
            d.runtime().connectionChanged(connected, clock.instant());
        }
    }

    /** Forgets a deleted or disabled device or module: its AMQP connection is closed. */
    public void drop(String key) {
        AmqpDeviceChannel channel = channels.remove(key);
        if (channel != null) {
            channel.connection.context().runOnContext(v -> channel.connection.closeWith(
                    org.apache.qpid.proton.amqp.transport.AmqpError.UNAUTHORIZED_ACCESS,
                    "Device " + key + " was deleted or disabled."));
        }
    }

    void readinessChanged(AmqpDeviceChannel channel) {
        if (!channel.methodReady()) {
            return;
        }
        List<CompletableFuture<Void>> waiters = readyWaiters.remove(channel.identity.toString());
        if (waiters != null) {
            waiters.forEach(w -> w.complete(null));
        }
    }

    @Override
    public void desiredChanged(String key, Supplier<ObjectNode> patchWithVersion) {
        AmqpDeviceChannel channel = channels.get(key);
        if (channel != null && channel.desiredSubscribed) {
            channel.notifyDesired(DeviceLinks.desiredNotification(patchWithVersion.get()));
        }
    }

    @Override
    public boolean isMethodReady(String key) {
        AmqpDeviceChannel channel = channels.get(key);
        return channel != null && channel.methodReady();
    }

    @Override
    public CompletableFuture<Void> awaitMethodReady(String key, Duration timeout) {
        CompletableFuture<Void> waiter = new CompletableFuture<>();
        readyWaiters.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(waiter);
        if (isMethodReady(key)) {
            waiter.complete(null);
        }
        waiter.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            List<CompletableFuture<Void>> list = readyWaiters.get(key);
            if (list != null) {
                list.remove(waiter);
            }
        });
        return waiter;
    }

    @Override
    public CompletableFuture<MethodResponse> sendMethodRequest(String key, String methodName, String payloadJson) {
        AmqpDeviceChannel channel = channels.get(key);
        if (channel == null || !channel.methodReady()) {
            CompletableFuture<MethodResponse> none = new CompletableFuture<>();
            none.cancel(false);
            return none;
        }
        return channel.sendMethod(methodName, payloadJson);
    }
}
