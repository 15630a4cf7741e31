package dev.iotjobs.localhub.edge;

import dev.iotjobs.localhub.method.MethodResponse;
import dev.iotjobs.localhub.model.IdentityKey;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the hub keeps of one identity across its connections: the features its session listens to (durable),
 * its method calls waiting for an answer, and its current connection.
 */
final class IdentityState {
    final IdentityKey identity;
    final String key;
    /** Guarded by this. */
    final Set<Feature> features = EnumSet.noneOf(Feature.class);
    final Map<String, CompletableFuture<MethodResponse>> pendingMethods = new ConcurrentHashMap<>();
    /** Sends held until the current connection is ready for them (see {@link EdgeSession#ready}); guarded by this. */
    final List<Runnable> held = new ArrayList<>();
    private final AtomicLong nextRid = new AtomicLong(1);
    volatile EdgeSession current;

    IdentityState(IdentityKey identity) {
        this.identity = identity;
        this.key = identity.toString();
    }

    synchronized boolean listens(Feature f) {
        return features.contains(f);
    }

    synchronized Set<Feature> featuresCopy() {
        return features.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(features);
    }

    String newRequestId() {
        return Long.toHexString(nextRid.getAndIncrement());
    }
}
