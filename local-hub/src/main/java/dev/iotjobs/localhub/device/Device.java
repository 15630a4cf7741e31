package dev.iotjobs.localhub.device;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.json.Json;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * One device: its identity (registry entry) and its twin, as one immutable value. Every change makes a
 * new {@code Device} (see {@link Builder}); the JSON nodes inside are never mutated once published, so
 * readers (queries, jobs) need no lock.
 */
public final class Device {
    /**
     * The parent scopes of every device that has none (nearly all of them), shared like {@link Interner}'s empty
     * objects: never mutated, a builder that sets scopes sets a new array.
     */
    static final ArrayNode NO_SCOPES = Json.NODES.arrayNode();

    final String id;
    final String generationId;
    final long etagCounter;
    final boolean enabled;
    final String statusReason;
    final Instant statusUpdatedTime;
    final String authType;
    final String primaryKey;
    final String secondaryKey;
    final String primaryThumbprint;
    final String secondaryThumbprint;
    final boolean iotEdge;
    final String deviceScope;
    final ArrayNode parentScopes;
    /** Modules only: who manages the module (IoT Edge sets it); null for devices. */
    final String managedBy;
    final ObjectNode tags;
    final TwinSection desired;
    final TwinSection reported;
    final long twinVersion;
    final DeviceRuntime runtime;
    /** Order of versions of this device: set when a change is staged (under the device's lock). */
    long revision;

    Device(Builder b) {
        id = b.id;
        generationId = b.generationId;
        etagCounter = b.etagCounter;
        enabled = b.enabled;
        statusReason = b.statusReason;
        statusUpdatedTime = b.statusUpdatedTime;
        authType = b.authType;
        primaryKey = b.primaryKey;
        secondaryKey = b.secondaryKey;
        primaryThumbprint = b.primaryThumbprint;
        secondaryThumbprint = b.secondaryThumbprint;
        iotEdge = b.iotEdge;
        deviceScope = b.deviceScope;
        parentScopes = b.parentScopes;
        managedBy = b.managedBy;
        tags = b.tags;
        desired = b.desired;
        reported = b.reported;
        twinVersion = b.twinVersion;
        runtime = b.runtime;
    }

    public String id() {
        return id;
    }

    /** The device id: {@link #id()} for a device, the part before the '/' of a module's key. */
    public String deviceId() {
        int slash = id.indexOf('/');
        return slash < 0 ? id : id.substring(0, slash);
    }

    /** The module id of a module (its key is {@code deviceId/moduleId}, see {@link ModuleIds}); null for a device. */
    public String moduleId() {
        int slash = id.indexOf('/');
        return slash < 0 ? null : id.substring(slash + 1);
    }

    public boolean enabled() {
        return enabled;
    }

    public String primaryKey() {
        return primaryKey;
    }

    public String secondaryKey() {
        return secondaryKey;
    }

    /** The identity's generation id (IoT Hub stamps it on telemetry: iothub-connection-auth-generation-id). */
    public String generationId() {
        return generationId;
    }

    public String authType() {
        return authType;
    }

    public String primaryThumbprint() {
        return primaryThumbprint;
    }

    public String secondaryThumbprint() {
        return secondaryThumbprint;
    }

    public ObjectNode tags() {
        return tags;
    }

    public TwinSection desired() {
        return desired;
    }

    public TwinSection reported() {
        return reported;
    }

    public long twinVersion() {
        return twinVersion;
    }

    public DeviceRuntime runtime() {
        return runtime;
    }

    /** Registry etag: base64 of the decimal counter, as IoT Hub's look. */
    public String etag() {
        return Base64.getEncoder().encodeToString(Long.toString(etagCounter).getBytes(StandardCharsets.US_ASCII));
    }

    /** Twin etag: base64 of the 8-byte big-endian twin version, e.g. AAAAAAAAAAE= for 1. */
    public String twinEtag() {
        byte[] bytes = new byte[8];
        long v = twinVersion;
        for (int i = 7; i >= 0; i--) {
            bytes[i] = (byte) v;
            v >>>= 8;
        }
        return Base64.getEncoder().encodeToString(bytes);
    }

    Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Mutable copy used to derive the next version of a device. Its fields are written only inside this
     * package (the registry, the twin rules and the codec): everyone else gets immutable devices.
     */
    public static final class Builder {
        String id;
        String generationId;
        long etagCounter = 1;
        boolean enabled = true;
        String statusReason;
        Instant statusUpdatedTime;
        String authType = "sas";
        String primaryKey;
        String secondaryKey;
        String primaryThumbprint;
        String secondaryThumbprint;
        boolean iotEdge;
        String deviceScope;
        ArrayNode parentScopes;
        String managedBy;
        ObjectNode tags;
        /** Null until set: {@link #build()} gives a new device its empty sections (copies keep theirs). */
        TwinSection desired;
        TwinSection reported;
        long twinVersion = 1;
        DeviceRuntime runtime;

        /** A new device: no parent scopes, no tags, never active (a copy takes all of these from its device). */
        Builder() {
            parentScopes = NO_SCOPES;
            tags = Json.object();
            runtime = new DeviceRuntime(null);
        }

        Builder(Device d) {
            id = d.id;
            generationId = d.generationId;
            etagCounter = d.etagCounter;
            enabled = d.enabled;
            statusReason = d.statusReason;
            statusUpdatedTime = d.statusUpdatedTime;
            authType = d.authType;
            primaryKey = d.primaryKey;
            secondaryKey = d.secondaryKey;
            primaryThumbprint = d.primaryThumbprint;
            secondaryThumbprint = d.secondaryThumbprint;
            iotEdge = d.iotEdge;
            deviceScope = d.deviceScope;
            parentScopes = d.parentScopes;
            managedBy = d.managedBy;
            tags = d.tags;
            desired = d.desired;
            reported = d.reported;
            twinVersion = d.twinVersion;
            runtime = d.runtime;
        }

        Device build() {
            tags = Interner.TAGS.intern(tags);
            // A new device's empty sections were last updated when it was created, its first status time. The
            // devices of one bulk request share that instant, and so their sections (Interner).
            Instant at = statusUpdatedTime != null ? statusUpdatedTime : Instant.now();
            if (desired == null) {
                desired = TwinSection.empty(true, at);
            }
            if (reported == null) {
                reported = TwinSection.empty(false, at);
            }
            return new Device(this);
        }
    }
}
