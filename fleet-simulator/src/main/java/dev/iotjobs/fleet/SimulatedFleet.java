package dev.iotjobs.fleet;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A connected simulated fleet, whatever protocol its devices speak: {@link FleetSimulator} (MQTT over TLS) or
 * {@link AmqpFleet} (AMQP over TLS). What a benchmark or a test asks of either.
 */
public interface SimulatedFleet extends AutoCloseable {
    int connectedCount();

    int deviceCount();

    /** {@code lockDoor} calls answered by this device (any method with 200 under failure injection). */
    long methodCalls(String deviceId);

    /** Method calls answered with 200, over all devices. */
    long totalMethodCalls();

    /** Method calls answered otherwise (404 for an unknown method, 500 under failure injection). */
    long totalUnknownMethodCalls();

    /** Desired-property patches received, over all devices. */
    long totalDesiredPatches();

    /**
     * Per method call: nanoseconds from the request's arrival at the device to the hub's acknowledgement of its
     * answer (so it includes the hub's handling of the answer). A snapshot, in completion order.
     */
    List<Long> methodLatenciesNanos();

    /** How long connecting took, or null while it is under way. */
    FleetSimulator.ConnectStats connectStats();

    /** Turns failure injection on (see {@link FleetSimulator.Faults}); call before the devices are used. */
    SimulatedFleet injectFaults(FleetSimulator.Faults faults);

    /** Disconnects every device; completes when each has said goodbye (or was not connected). */
    CompletableFuture<Void> closeAsync();

    /** Disconnects every device, waiting a while for the goodbyes unless on an event loop. */
    @Override
    void close();
}
