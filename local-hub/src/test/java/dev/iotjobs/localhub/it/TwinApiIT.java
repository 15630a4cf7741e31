package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.device.DeviceClient;
import com.microsoft.azure.sdk.iot.device.IotHubStatusCode;
import com.microsoft.azure.sdk.iot.device.exceptions.IotHubClientException;
import com.microsoft.azure.sdk.iot.device.twin.TwinCollection;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubBadFormatException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubPreconditionFailedException;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import com.microsoft.azure.sdk.iot.service.twin.TwinMetadata;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Date;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device twins through the unmodified TwinClient (service side) and DeviceClient over MQTT (device side). */
@ExtendWith(LocalHubExtension.class)
class TwinApiIT {
    private LocalHub hub;
    private TwinClient twins;

    @BeforeEach
    void newClient(LocalHub hub) {
        this.hub = hub;
        twins = new TwinClient(hub.hubConnectionString());
    }

    private String newDevice(String prefix) throws Exception {
        return TestDevices.register(hub, TestDevices.uniqueId(prefix)).getDeviceId();
    }

    @Test
    void get_newDeviceHasVersionOneSectionsAndNoTags() throws Exception {
        String id = newDevice("twin-new");
        Twin twin = twins.get(id);
        assertEquals(id, twin.getDeviceId());
        assertEquals(1, twin.getDesiredProperties().getVersion());
        assertEquals(1, twin.getReportedProperties().getVersion());
        assertTrue(twin.getTags().isEmpty(), "tags: " + twin.getTags());
        assertNull(twin.getTags().getTwinMetadata(), "tags must carry no $metadata");
        assertTrue(twin.getDesiredProperties().isEmpty());
        assertNotNull(twin.getStatus());
        assertEquals("DISCONNECTED", twin.getConnectionState()); // the SDK upper-cases the enum
        assertNotNull(twin.getETag());
        assertNotNull(twin.getVersion());
        assertNotNull(twin.getLastActivityTime());
        assertNotNull(twin.getCloudToDeviceMessageCount());
    }

    @Test
    void get_unknownDeviceIs404001() {
        IotHubException e = assertThrows(IotHubNotFoundException.class, () -> twins.get(TestDevices.uniqueId("twin-nobody")));
        assertEquals(404001, e.getErrorCode());
    }

    @Test
    void patch_mergesNestedObjectsAndNullDeletes() throws Exception {
        String id = newDevice("twin-merge");
        Twin first = new Twin(id);
        first.getDesiredProperties().put("keep", "k");
        first.getDesiredProperties().put("drop", 1);
        first.getDesiredProperties().put("nested", Map.of("a", 1, "b", 2));
        first.getTags().put("building", "43");
        twins.patch(first);

        Twin second = new Twin(id);
        second.getDesiredProperties().put("drop", null);
        second.getDesiredProperties().put("nested", Map.of("b", 3, "c", 4));
        second.getDesiredProperties().put("added", true);
        Twin patched = twins.patch(second);

        Map<String, Object> desired = patched.getDesiredProperties();
        assertEquals(Set.of("keep", "nested", "added"), desired.keySet());
        assertEquals("k", desired.get("keep"));
        assertEquals(true, desired.get("added"));
        @SuppressWarnings("unchecked")
        Map<String, Object> nested = (Map<String, Object>) desired.get("nested");
        assertEquals(Set.of("a", "b", "c"), nested.keySet());
        assertEquals(3, ((Number) nested.get("b")).intValue());
        assertEquals(Map.of("building", "43"), Map.copyOf(patched.getTags()), "tags untouched by a desired-only patch");
        assertEquals(3, patched.getDesiredProperties().getVersion());
    }

    @Test
    void replace_removesKeysAbsentFromTheNewTwin() throws Exception {
        String id = newDevice("twin-replace");
        Twin first = new Twin(id);
        first.getDesiredProperties().put("old", 1);
        first.getTags().put("oldTag", "x");
        twins.patch(first);

        Twin replacement = new Twin(id);
        replacement.getDesiredProperties().put("new", 2);
        replacement.getTags().put("newTag", "y");
        Twin replaced = twins.replace(replacement);
        assertEquals(Set.of("new"), replaced.getDesiredProperties().keySet());
        assertEquals(Set.of("newTag"), replaced.getTags().keySet());
        assertEquals(3, replaced.getDesiredProperties().getVersion());

        Twin read = twins.get(id);
        assertEquals(Set.of("new"), read.getDesiredProperties().keySet());
        assertFalse(read.getTags().containsKey("oldTag"));
    }

    @Test
    void patch_bumpsVersionAndEtag() throws Exception {
        String id = newDevice("twin-version");
        Twin before = twins.get(id);
        Twin change = new Twin(id);
        change.getDesiredProperties().put("x", 1);
        Twin after = twins.patch(change);
        assertEquals(before.getVersion() + 1, after.getVersion());
        assertEquals(before.getDesiredProperties().getVersion() + 1, after.getDesiredProperties().getVersion());
        assertNotEquals(before.getETag(), after.getETag());

        Twin tagsOnly = new Twin(id);
        tagsOnly.getTags().put("t", 1);
        Twin afterTags = twins.patch(tagsOnly);
        assertEquals(after.getVersion() + 1, afterTags.getVersion());
        assertNotEquals(after.getETag(), afterTags.getETag());
        assertEquals(after.getDesiredProperties().getVersion(), afterTags.getDesiredProperties().getVersion(),
                "a tags-only patch must not bump desired $version");
    }

    @Test
    void patch_withCurrentEtagSucceedsAndStaleEtagIs412001() throws Exception {
        String id = newDevice("twin-etag");
        Twin original = twins.get(id);
        Twin change = new Twin(id);
        change.getDesiredProperties().put("a", 1);
        Twin current = twins.patch(change, original.getETag());

        Twin late = new Twin(id);
        late.getDesiredProperties().put("a", 2);
        IotHubException e = assertThrows(IotHubPreconditionFailedException.class, () -> twins.patch(late, original.getETag()));
        assertEquals(412001, e.getErrorCode());
        IotHubException onReplace = assertThrows(IotHubPreconditionFailedException.class,
                () -> twins.replace(late, original.getETag()));
        assertEquals(412001, onReplace.getErrorCode());

        Twin read = twins.get(id);
        assertEquals(1, ((Number) read.getDesiredProperties().get("a")).intValue(), "a failed precondition wrote");
        assertEquals(current.getETag(), read.getETag());
        // Quoted and wildcard forms are accepted too.
        assertNotNull(twins.patch(late, "\"" + current.getETag() + "\""));
        assertNotNull(twins.patch(late, "*"));
    }

    @Test
    void patch_stampsMetadataForEachChangedKey() throws Exception {
        String id = newDevice("twin-meta");
        Date start = new Date(System.currentTimeMillis() - 2000);
        Twin change = new Twin(id);
        change.getDesiredProperties().put("first", 1);
        twins.patch(change);
        Twin second = new Twin(id);
        second.getDesiredProperties().put("second", 2);
        Twin patched = twins.patch(second);

        TwinMetadata section = patched.getDesiredProperties().getTwinMetadata();
        assertNotNull(section, "desired $metadata");
        assertNotNull(section.getLastUpdated());
        TwinMetadata first = patched.getDesiredProperties().getTwinMetadata("first");
        TwinMetadata secondMeta = patched.getDesiredProperties().getTwinMetadata("second");
        assertNotNull(first, "$metadata.first");
        assertNotNull(secondMeta, "$metadata.second");
        assertTrue(first.getLastUpdated().after(start), "first.$lastUpdated " + first.getLastUpdated());
        assertEquals(2, first.getLastUpdatedVersion());
        assertEquals(3, secondMeta.getLastUpdatedVersion());
        assertEquals(3, section.getLastUpdatedVersion());
        assertFalse(secondMeta.getLastUpdated().before(first.getLastUpdated()));
    }

    @Test
    void patch_oversizeTagsIs400AndLeavesTheTwinUnchanged() throws Exception {
        String id = newDevice("twin-big");
        Twin small = new Twin(id);
        small.getTags().put("small", "s");
        Twin before = twins.patch(small);

        Twin big = new Twin(id);
        String chunk = "x".repeat(3000);
        big.getTags().put("a", chunk);
        big.getTags().put("b", chunk);
        big.getTags().put("c", chunk);
        IotHubException e = assertThrows(IotHubBadFormatException.class, () -> twins.patch(big));
        assertEquals(400, e.getErrorCode() / 1000);

        Twin after = twins.get(id);
        assertEquals(Set.of("small"), after.getTags().keySet());
        assertEquals(before.getVersion(), after.getVersion());
        assertEquals(before.getETag(), after.getETag());
    }

    @Test
    void get_connectionStateIsConnectedWhileADeviceClientIsOpen() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("twin-conn"));
        DeviceClient client = TestDevices.connect(device);
        try {
            assertEquals("CONNECTED", twins.get(device.getDeviceId()).getConnectionState());
        } finally {
            client.close();
        }
        long deadline = System.currentTimeMillis() + 5000;
        String state;
        do {
            state = twins.get(device.getDeviceId()).getConnectionState();
        } while (!"DISCONNECTED".equals(state) && System.currentTimeMillis() < deadline && sleep(50));
        assertEquals("DISCONNECTED", state);
    }

    @Test
    void deviceGetTwin_seesDesiredAndUpdateReportedPropertiesBumpsVersion() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("twin-dev"));
        Twin desired = new Twin(device.getDeviceId());
        desired.getDesiredProperties().put("setpoint", 21);
        desired.getTags().put("secret", "tags are invisible to devices");
        twins.patch(desired);

        DeviceClient client = TestDevices.connect(device);
        try {
            // The device SDK refuses twin operations before this subscription.
            client.subscribeToDesiredProperties((twin, ctx) -> { }, null);
            com.microsoft.azure.sdk.iot.device.twin.Twin seen = TestDevices.getTwin(client);
            assertEquals(2, seen.getDesiredProperties().getVersion());
            assertEquals(21, ((Number) seen.getDesiredProperties().get("setpoint")).intValue());
            assertEquals(1, seen.getReportedProperties().getVersion());
            assertTrue(seen.getReportedProperties().isEmpty());

            var reported = new TwinCollection();
            reported.put("firmware", "1.2");
            reported.put("gone", "soon");
            assertEquals(2, TestDevices.updateReported(client, reported, hub, device.getDeviceId()));

            var removal = new TwinCollection();
            removal.put("gone", null);
            assertEquals(3, TestDevices.updateReported(client, removal, hub, device.getDeviceId()));

            Twin service = twins.get(device.getDeviceId());
            assertEquals(3, service.getReportedProperties().getVersion());
            assertEquals(Set.of("firmware"), service.getReportedProperties().keySet());
            assertNotNull(service.getReportedProperties().getTwinMetadata("firmware"));
            assertEquals(3, TestDevices.getTwin(client).getReportedProperties().getVersion());
        } finally {
            client.close();
        }
    }

    @Test
    void updateReportedProperties_withStaleVersionIsPreconditionFailed() throws Exception {
        Device device = TestDevices.register(hub, TestDevices.uniqueId("twin-stale"));
        DeviceClient client = TestDevices.connect(device);
        try {
            client.subscribeToDesiredProperties((twin, ctx) -> { }, null);
            var first = new TwinCollection();
            first.put("a", 1);
            first.setVersion(1);
            assertEquals(2, TestDevices.updateReported(client, first, hub, device.getDeviceId()));

            var stale = new TwinCollection();
            stale.put("a", 2);
            stale.setVersion(1);
            IotHubClientException e = TestDevices.updateReportedRefused(client, stale);
            assertEquals(IotHubStatusCode.PRECONDITION_FAILED, e.getStatusCode());
            assertEquals(1, ((Number) twins.get(device.getDeviceId()).getReportedProperties().get("a")).intValue());
        } finally {
            client.close();
        }
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
