package dev.iotjobs.localhub.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-device progress of one job, kept compact (a job may target a million devices): parallel arrays
 * indexed by target position, plus the outcome JSON only where there is one (method responses, errors).
 * Counters are maintained with every transition, so statistics are exact at every poll.
 * All mutators are synchronized on this object.
 */
final class JobProgress {
    final String[] deviceIds;
    private final byte[] states;
    private final long[] startMillis;
    private final long[] endMillis;
    private final Map<Integer, ObjectNode> results = new ConcurrentHashMap<>();
    private final int[] counts = new int[DeviceJobStatus.values().length];

    JobProgress(String[] deviceIds) {
        this.deviceIds = deviceIds;
        this.states = new byte[deviceIds.length];
        this.startMillis = new long[deviceIds.length];
        this.endMillis = new long[deviceIds.length];
        this.counts[DeviceJobStatus.QUEUED.ordinal()] = deviceIds.length;
    }

    /** Target position by device id; built on demand (a million-entry map is not kept per job). */
    Map<String, Integer> indexById() {
        Map<String, Integer> index = new HashMap<>(Math.max(16, deviceIds.length * 2));
        for (int i = 0; i < deviceIds.length; i++) {
            index.put(deviceIds[i], i);
        }
        return index;
    }

    int size() {
        return deviceIds.length;
    }

    synchronized DeviceJobStatus status(int i) {
        return DeviceJobStatus.ofOrdinal(states[i]);
    }

    synchronized long startMillis(int i) {
        return startMillis[i];
    }

    synchronized long endMillis(int i) {
        return endMillis[i];
    }

    ObjectNode result(int i) {
        return results.get(i);
    }

    /** Moves a device to {@code next}; returns false (and changes nothing) if it is already terminal. */
    synchronized boolean transition(int i, DeviceJobStatus next, long atMillis, ObjectNode result) {
        DeviceJobStatus current = DeviceJobStatus.ofOrdinal(states[i]);
        if (current.terminal()) {
            return false;
        }
        counts[current.ordinal()]--;
        counts[next.ordinal()]++;
        states[i] = (byte) next.ordinal();
        if (next == DeviceJobStatus.RUNNING || startMillis[i] == 0) {
            startMillis[i] = atMillis;
        }
        if (next.terminal()) {
            endMillis[i] = atMillis;
        }
        if (result != null) {
            results.put(i, result);
        }
        return true;
    }

    synchronized int count(DeviceJobStatus status) {
        return counts[status.ordinal()];
    }

    synchronized boolean finished() {
        return counts[DeviceJobStatus.QUEUED.ordinal()] == 0 && counts[DeviceJobStatus.RUNNING.ordinal()] == 0;
    }

    /** Statistics as IoT Hub reports them; cancelled devices count as failed (they did not succeed). */
    synchronized int[] statistics() {
        return new int[]{deviceIds.length,
                counts[DeviceJobStatus.FAILED.ordinal()] + counts[DeviceJobStatus.CANCELLED.ordinal()],
                counts[DeviceJobStatus.COMPLETED.ordinal()],
                counts[DeviceJobStatus.RUNNING.ordinal()],
                counts[DeviceJobStatus.QUEUED.ordinal()]};
    }
}
