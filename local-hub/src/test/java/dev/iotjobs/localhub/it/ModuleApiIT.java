package dev.iotjobs.localhub.it;

import com.microsoft.azure.sdk.iot.service.auth.SymmetricKey;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubBadFormatException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubConflictException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubNotFoundException;
import com.microsoft.azure.sdk.iot.service.exceptions.IotHubPreconditionFailedException;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJob;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobStatus;
import com.microsoft.azure.sdk.iot.service.jobs.ScheduledJobsClient;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodRequestOptions;
import com.microsoft.azure.sdk.iot.service.methods.DirectMethodsClient;
import com.microsoft.azure.sdk.iot.service.query.QueryClient;
import com.microsoft.azure.sdk.iot.service.query.QueryPageOptions;
import com.microsoft.azure.sdk.iot.service.query.RawQueryResponse;
import com.microsoft.azure.sdk.iot.service.query.TwinQueryResponse;
import com.microsoft.azure.sdk.iot.service.registry.Device;
import com.microsoft.azure.sdk.iot.service.registry.Module;
import com.microsoft.azure.sdk.iot.service.registry.RegistryClient;
import com.microsoft.azure.sdk.iot.service.twin.Twin;
import com.microsoft.azure.sdk.iot.service.twin.TwinClient;
import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.json.Json;
import dev.iotjobs.localhub.junit.LocalHubExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Module identities, module twins, module direct methods and {@code devices.modules} queries through the
 * unmodified service SDK (RegistryClient, TwinClient, DirectMethodsClient, QueryClient).
 */
@ExtendWith(LocalHubExtension.class)
class ModuleApiIT {
    private LocalHub hub;
    private RegistryClient registry;
    private TwinClient twins;

    @BeforeEach
    void newClients(LocalHub hub) {
        this.hub = hub;
        registry = new RegistryClient(hub.hubConnectionString());
        twins = new TwinClient(hub.hubConnectionString());
    }

    private String newDevice(String prefix) throws Exception {
        return TestDevices.register(hub, TestDevices.uniqueId(prefix)).getDeviceId();
    }

    // ---- registry ------------------------------------------------------------------------------------

    @Test
    void addModule_generatesKeysAndIsReadBackAndListed() throws Exception {
        String deviceId = newDevice("mod-crud");
        Module added = registry.addModule(new Module(deviceId, "alpha"));
        assertEquals(deviceId, added.getDeviceId());
        assertEquals("alpha", added.getId());
        assertNotNull(added.getPrimaryKey());
        assertNotNull(added.getSecondaryKey());
        assertNotNull(added.getETag());
        assertNotNull(added.getGenerationId());

        Module read = registry.getModule(deviceId, "alpha");
        assertEquals(added.getPrimaryKey(), read.getPrimaryKey());
        assertEquals(added.getETag(), read.getETag());
        assertEquals("DISCONNECTED", read.getConnectionState().toString().toUpperCase());

        registry.addModule(new Module(deviceId, "beta"));
        List<String> listed = new ArrayList<>();
        for (Module m : registry.getModulesOnDevice(deviceId)) {
            assertEquals(deviceId, m.getDeviceId());
            listed.add(m.getId());
        }
        assertEquals(List.of("alpha", "beta"), listed);
        assertEquals(List.of(), registry.getModulesOnDevice(newDevice("mod-none")), "a device without modules");
    }

    @Test
    void addModule_twiceIs409301_andOnAnUnknownDeviceIs404001() throws Exception {
        String deviceId = newDevice("mod-dup");
        registry.addModule(new Module(deviceId, "m"));
        IotHubException dup = assertThrows(IotHubConflictException.class, () -> registry.addModule(new Module(deviceId, "m")));
        assertEquals(409301, dup.getErrorCode());

        String ghost = TestDevices.uniqueId("mod-ghost");
        IotHubException noDevice = assertThrows(IotHubNotFoundException.class, () -> registry.addModule(new Module(ghost, "m")));
        assertEquals(404001, noDevice.getErrorCode());
    }

    @Test
    void getModule_unknownModuleIs404010_unknownDeviceIs404001() throws Exception {
        String deviceId = newDevice("mod-404");
        IotHubException module = assertThrows(IotHubNotFoundException.class, () -> registry.getModule(deviceId, "nope"));
        assertEquals(404010, module.getErrorCode());
        IotHubException device = assertThrows(IotHubNotFoundException.class,
                () -> registry.getModule(TestDevices.uniqueId("mod-ghost"), "nope"));
        assertEquals(404001, device.getErrorCode());
        IotHubException list = assertThrows(IotHubNotFoundException.class,
                () -> registry.getModulesOnDevice(TestDevices.uniqueId("mod-ghost")));
        assertEquals(404001, list.getErrorCode());
    }

    @Test
    void addModule_withAnInvalidIdIs400004() throws Exception {
        String deviceId = newDevice("mod-bad");
        IotHubException e = assertThrows(IotHubBadFormatException.class,
                () -> registry.addModule(new Module(deviceId, "m".repeat(129))));
        assertEquals(400004, e.getErrorCode());
    }

    @Test
    void updateModule_replacesKeysAndChangesTheEtag_staleEtagDeleteIs412001() throws Exception {
        String deviceId = newDevice("mod-upd");
        Module added = registry.addModule(new Module(deviceId, "m"));
        Module change = registry.getModule(deviceId, "m");
        String newKey = Base64.getEncoder().encodeToString(new byte[32]);
        change.setSymmetricKey(new SymmetricKey());
        change.getSymmetricKey().setPrimaryKey(newKey);
        change.getSymmetricKey().setSecondaryKey(newKey);
        Module updated = registry.updateModule(change);
        assertEquals(newKey, updated.getPrimaryKey());
        assertNotEquals(added.getETag(), updated.getETag());

        // removeModule(Module) sends the module's etag as If-Match: the old one no longer matches.
        IotHubException stale = assertThrows(IotHubPreconditionFailedException.class, () -> registry.removeModule(added));
        assertEquals(412001, stale.getErrorCode());
        registry.removeModule(updated);
        IotHubException gone = assertThrows(IotHubNotFoundException.class, () -> registry.getModule(deviceId, "m"));
        assertEquals(404010, gone.getErrorCode());
    }

    @Test
    void removeDevice_deletesItsModules_aRecreatedDeviceHasNone() throws Exception {
        String deviceId = newDevice("mod-cascade");
        registry.addModule(new Module(deviceId, "a"));
        registry.addModule(new Module(deviceId, "b"));
        registry.removeDevice(deviceId);
        assertEquals(404001, assertThrows(IotHubNotFoundException.class,
                () -> registry.getModule(deviceId, "a")).getErrorCode());

        registry.addDevice(new Device(deviceId));
        assertEquals(List.of(), registry.getModulesOnDevice(deviceId), "modules of the deleted device stay deleted");
        assertEquals(404010, assertThrows(IotHubNotFoundException.class,
                () -> twins.get(deviceId, "a")).getErrorCode());
        assertEquals(0, count(new QueryClient(hub.hubConnectionString()),
                "SELECT COUNT() AS n FROM devices.modules WHERE deviceId = '" + deviceId + "'"));
    }

    @Test
    void modules_areNotDevices_statisticsAndDeviceQueriesDoNotCountThem() throws Exception {
        String deviceId = newDevice("mod-notdev");
        long before = registry.getStatistics().getTotalDeviceCount();
        registry.addModule(new Module(deviceId, "m"));
        assertEquals(before, registry.getStatistics().getTotalDeviceCount());
        assertEquals(1, count(new QueryClient(hub.hubConnectionString()),
                "SELECT COUNT() AS n FROM devices WHERE deviceId = '" + deviceId + "'"));
    }

    // ---- module twins --------------------------------------------------------------------------------

    @Test
    void moduleTwin_getPatchReplace_likeADeviceTwin_andSeparateFromTheDeviceTwin() throws Exception {
        String deviceId = newDevice("mod-twin");
        registry.addModule(new Module(deviceId, "m"));
        Twin fresh = twins.get(deviceId, "m");
        assertEquals(deviceId, fresh.getDeviceId());
        assertEquals("m", fresh.getModuleId());
        assertEquals(1, fresh.getDesiredProperties().getVersion());
        assertTrue(fresh.getTags().isEmpty());

        Twin patch = new Twin(deviceId, "m");
        patch.getDesiredProperties().put("rate", 5);
        patch.getDesiredProperties().put("nested", Map.of("a", 1));
        patch.getTags().put("role", "filter");
        Twin patched = twins.patch(patch);
        assertEquals("m", patched.getModuleId());
        assertEquals(2, patched.getDesiredProperties().getVersion());
        assertEquals(5, ((Number) patched.getDesiredProperties().get("rate")).intValue());

        Twin second = new Twin(deviceId, "m");
        second.getDesiredProperties().put("rate", null);
        assertEquals(Set.of("nested"), twins.patch(second).getDesiredProperties().keySet(), "null deletes");

        Twin replacement = new Twin(deviceId, "m");
        replacement.getDesiredProperties().put("only", true);
        Twin replaced = twins.replace(replacement);
        assertEquals(Set.of("only"), replaced.getDesiredProperties().keySet());
        assertTrue(replaced.getTags().isEmpty(), "replace drops tags absent from the new twin");

        Twin device = twins.get(deviceId);
        assertTrue(device.getDesiredProperties().isEmpty(), "the device twin is untouched");
        assertEquals(1, device.getDesiredProperties().getVersion());
    }

    @Test
    void moduleTwin_staleEtagIs412001_unknownModuleIs404010_unknownDeviceIs404001() throws Exception {
        String deviceId = newDevice("mod-twin-err");
        registry.addModule(new Module(deviceId, "m"));
        Twin first = twins.get(deviceId, "m");
        Twin patch = new Twin(deviceId, "m");
        patch.getDesiredProperties().put("x", 1);
        twins.patch(patch);
        IotHubException stale = assertThrows(IotHubPreconditionFailedException.class,
                () -> twins.patch(patch, first.getETag()));
        assertEquals(412001, stale.getErrorCode());

        assertEquals(404010, assertThrows(IotHubNotFoundException.class, () -> twins.get(deviceId, "nope")).getErrorCode());
        Twin ghost = new Twin(deviceId, "nope");
        ghost.getDesiredProperties().put("x", 1);
        assertEquals(404010, assertThrows(IotHubNotFoundException.class, () -> twins.patch(ghost)).getErrorCode());
        assertEquals(404001, assertThrows(IotHubNotFoundException.class,
                () -> twins.get(TestDevices.uniqueId("mod-ghost"), "m")).getErrorCode());
    }

    @Test
    void moduleTwin_limitsAreTheDeviceTwinLimits() throws Exception {
        String deviceId = newDevice("mod-twin-limit");
        registry.addModule(new Module(deviceId, "m"));
        Twin patch = new Twin(deviceId, "m");
        patch.getTags().put("big", "x".repeat(4000));
        patch.getTags().put("big2", "x".repeat(4000));
        patch.getTags().put("big3", "x".repeat(4000));
        IotHubException e = assertThrows(IotHubBadFormatException.class, () -> twins.patch(patch));
        assertEquals(400004, e.getErrorCode());
    }

    // ---- module methods ------------------------------------------------------------------------------

    @Test
    void moduleMethod_offlineIs404103_unknownModuleIs404010_unknownDeviceIs404001() throws Exception {
        String deviceId = newDevice("mod-dm");
        registry.addModule(new Module(deviceId, "m"));
        DirectMethodsClient methods = new DirectMethodsClient(hub.hubConnectionString());
        DirectMethodRequestOptions options = DirectMethodRequestOptions.builder().methodConnectTimeoutSeconds(0).build();
        assertEquals(404103, assertThrows(IotHubNotFoundException.class,
                () -> methods.invoke(deviceId, "m", "ping", options)).getErrorCode());
        assertEquals(404010, assertThrows(IotHubNotFoundException.class,
                () -> methods.invoke(deviceId, "nope", "ping", options)).getErrorCode());
        assertEquals(404001, assertThrows(IotHubNotFoundException.class,
                () -> methods.invoke(TestDevices.uniqueId("mod-ghost"), "m", "ping", options)).getErrorCode());
    }

    // ---- queries -------------------------------------------------------------------------------------

    @Test
    void queryModules_pagesThroughModuleTwinsWithTheirIds() throws Exception {
        String a = newDevice("mod-q");
        String b = newDevice("mod-q");
        for (String m : List.of("m1", "m2", "m3")) {
            registry.addModule(new Module(a, m));
        }
        registry.addModule(new Module(b, "m1"));
        QueryClient queries = new QueryClient(hub.hubConnectionString());
        TwinQueryResponse response = queries.queryTwins("SELECT * FROM devices.modules WHERE deviceId IN ['" + a
                + "', '" + b + "']", QueryPageOptions.builder().pageSize(2).build());
        Set<String> seen = new HashSet<>();
        int count = 0;
        while (response.hasNext()) {
            Twin twin = response.next();
            assertNotNull(twin.getModuleId(), "module rows carry moduleId");
            seen.add(twin.getDeviceId() + "/" + twin.getModuleId());
            count++;
        }
        assertEquals(4, count, "every module twin exactly once over two-row pages");
        assertEquals(Set.of(a + "/m1", a + "/m2", a + "/m3", b + "/m1"), seen);

        TwinQueryResponse one = queries.queryTwins("SELECT * FROM devices.modules WHERE deviceId = '" + a
                + "' AND moduleId = 'm2'");
        assertTrue(one.hasNext());
        assertEquals("m2", one.next().getModuleId());
        assertTrue(!one.hasNext());
    }

    @Test
    void queryModules_countAndGroupByOverDesiredAndTags() throws Exception {
        String run = TestDevices.uniqueId("mod-agg");
        String a = newDevice(run);
        String b = newDevice(run);
        for (String[] dm : new String[][]{{a, "filter"}, {a, "sink"}, {b, "filter"}}) {
            registry.addModule(new Module(dm[0], dm[1]));
            Twin patch = new Twin(dm[0], dm[1]);
            patch.getTags().put("run", run);
            patch.getDesiredProperties().put("kind", dm[1]);
            twins.patch(patch);
        }
        QueryClient queries = new QueryClient(hub.hubConnectionString());
        assertEquals(3, count(queries, "SELECT COUNT() AS n FROM devices.modules WHERE tags.run = '" + run + "'"));
        RawQueryResponse groups = queries.queryRaw("SELECT moduleId, COUNT() AS n FROM devices.modules WHERE tags.run = '"
                + run + "' GROUP BY moduleId");
        Set<String> rows = new HashSet<>();
        while (groups.hasNext()) {
            var row = Json.parse(groups.next().getBytes());
            rows.add(row.get("moduleId").asText() + "=" + row.get("n").asInt());
        }
        assertEquals(Set.of("filter=2", "sink=1"), rows);
        assertEquals(1, count(queries, "SELECT COUNT() AS n FROM devices.modules WHERE tags.run = '" + run
                + "' AND properties.desired.kind = 'sink'"));
    }

    // ---- jobs --------------------------------------------------------------------------------------

    @Test
    void twinJobs_targetDevicesOnly_aModuleTwinMatchingTheConditionIsNotTouched() throws Exception {
        String run = TestDevices.uniqueId("mod-job");
        String deviceId = newDevice(run);
        registry.addModule(new Module(deviceId, "m"));
        Twin moduleTags = new Twin(deviceId, "m");
        moduleTags.getTags().put("run", run);
        twins.patch(moduleTags); // only the module's twin matches tags.run
        ScheduledJobsClient jobs = new ScheduledJobsClient(hub.hubConnectionString());
        Twin patch = new Twin();
        patch.getDesiredProperties().put("touched", true);
        String jobId = TestDevices.uniqueId("job");
        jobs.scheduleUpdateTwin(jobId, "tags.run = '" + run + "'", patch, new Date(), 60);
        ScheduledJob done = Jobs.awaitTerminal(jobs, jobId, 20_000, 100);
        assertEquals(ScheduledJobStatus.completed, done.getJobStatus());
        assertEquals(0, done.getJobStatistics().getDeviceCount(), "a job's condition selects device twins only");
        assertTrue(twins.get(deviceId, "m").getDesiredProperties().isEmpty());
    }

    static int count(QueryClient queries, String query) throws Exception {
        RawQueryResponse response = queries.queryRaw(query);
        return Json.parse(response.next().getBytes()).get("n").asInt();
    }
}
