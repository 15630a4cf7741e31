package dev.iotjobs.localhub.device;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live, non-persisted side of a device: connection state, last activity, telemetry count.
 * Shared by every version of a {@link Device}.
 */
public final class DeviceRuntime {
    private volatile boolean connected;
    private volatile Instant connectionStateUpdatedTime;
    private volatile Instant lastActivityTime;
    private final AtomicLong telemetryCount = new AtomicLong();
    private volatile int cloudToDeviceMessageCount;

    public DeviceRuntime(Instant lastActivityTime) {
        this.lastActivityTime = lastActivityTime;
    }

    public boolean connected() {
        return connected;
    }

    public Instant connectionStateUpdatedTime() {
        return connectionStateUpdatedTime;
    }

    public Instant lastActivityTime() {
        return lastActivityTime;
    }

    public long telemetryCount() {
        return telemetryCount.get();
    }

    /** Messages in the device's cloud-to-device queue (enqueued or locked), as its identity reports them. */
    public int cloudToDeviceMessageCount() {
        return cloudToDeviceMessageCount;
    }

    /** Set by the cloud-to-device queue, the only owner of that count. */
    public void cloudToDeviceMessageCount(int count) {
        cloudToDeviceMessageCount = count;
    }

    /** Set by the device edge, the only writer of the connection state (connect and disconnect of any protocol). */
    public void connectionChanged(boolean nowConnected, Instant at) {
        connected = nowConnected;
        connectionStateUpdatedTime = at;
        lastActivityTime = at;
    }

    public void activity(Instant at) {
        lastActivityTime = at;
    }

    public void telemetryReceived(Instant at) {
        telemetryCount.incrementAndGet();
        activity(at);
    }
}
