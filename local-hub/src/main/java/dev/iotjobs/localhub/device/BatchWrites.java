package dev.iotjobs.localhub.device;

import dev.iotjobs.localhub.store.HubStore;

import java.util.List;

/**
 * Writes that must be committed in the same store commit as a batch of twin changes, computed from the
 * devices the batch actually changed (under their locks, so the writes name exactly those devices). The
 * jobs package implements it for a twin job's batch record; the device package only carries it to the commit.
 */
public interface BatchWrites {
    List<HubStore.Write> forChanged(List<Device> changed);
}
