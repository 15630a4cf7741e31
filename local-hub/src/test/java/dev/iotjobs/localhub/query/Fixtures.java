package dev.iotjobs.localhub.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** Test documents shaped like GET /twins/{id} results and devices.jobs rows. */
final class Fixtures {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private Fixtures() {
    }

    static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text.replace('`', '"'));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static List<JsonNode> list(String jsonArray) {
        List<JsonNode> out = new ArrayList<>();
        json(jsonArray).forEach(out::add);
        return out;
    }

    /** Five device twins d1..d5 (backquotes stand for double quotes). */
    static List<JsonNode> twins() {
        return list("""
            [
             {`deviceId`:`d1`,`etag`:`AAAAAAAAAAE=`,`version`:9,`status`:`enabled`,`connectionState`:`Connected`,
              `lastActivityTime`:`2024-05-01T09:58:12.3Z`,`cloudToDeviceMessageCount`:0,`authenticationType`:`sas`,
              `tags`:{`site`:`A`,`floor`:3,`Env`:`prod`,`nullTag`:null,`group`:{`name`:`g1`},`loc`:{`floor`:3}},
              `properties`:{
                `desired`:{`fw`:`2.1`,`$metadata`:{`$lastUpdated`:`2024-05-01T09:00:00Z`,`$lastUpdatedVersion`:4,
                           `fw`:{`$lastUpdated`:`2024-05-01T09:00:00Z`,`$lastUpdatedVersion`:4}},`$version`:4},
                `reported`:{`fw`:`2.0`,`temp`:21.5,`$metadata`:{`$lastUpdated`:`2024-05-01T09:10:00Z`},`$version`:7}}},
             {`deviceId`:`d2`,`version`:3,`status`:`disabled`,`connectionState`:`Disconnected`,
              `lastActivityTime`:`2023-01-01T00:00:00Z`,
              `tags`:{`site`:`a`,`floor`:3.0,`env`:`test`,`quote`:`it's`},
              `properties`:{`desired`:{`$version`:1},`reported`:{`fw`:`2.0`,`temp`:30,`$version`:2}}},
             {`deviceId`:`d3`,`version`:2,`status`:`enabled`,`connectionState`:`Disconnected`,
              `lastActivityTime`:`0001-01-01T00:00:00Z`,
              `tags`:{`site`:`B`,`floor`:`3`,`Mode`:`upper`,`mode`:`lower`},
              `properties`:{`desired`:{`$version`:1},`reported`:{`fw`:`2.1`,`$version`:1}}},
             {`deviceId`:`d4`,`version`:1,`status`:`enabled`,`connectionState`:`Connected`,
              `lastActivityTime`:`2024-06-01T00:00:00Z`,
              `tags`:{`flag`:true},
              `properties`:{`desired`:{`$version`:1},`reported`:{`fw`:`2.0`,`$version`:1}}},
             {`deviceId`:`d5`,`version`:1,`status`:`enabled`,`connectionState`:`Connected`,
              `lastActivityTime`:`2024-06-02T00:00:00Z`,
              `tags`:{`floor`:5,`list`:[1,2],`flag`:false},
              `properties`:{`desired`:{`$version`:1},`reported`:{`$version`:1}}}
            ]""");
    }

    static List<JsonNode> modules() {
        return list("""
            [{`deviceId`:`d1`,`moduleId`:`m1`,`status`:`enabled`,`tags`:{`role`:`edge`},`properties`:{`desired`:{},`reported`:{}}},
             {`deviceId`:`d1`,`moduleId`:`m2`,`status`:`enabled`,`tags`:{},`properties`:{`desired`:{},`reported`:{}}},
             {`deviceId`:`d2`,`moduleId`:`m1`,`status`:`disabled`,`tags`:{},`properties`:{`desired`:{},`reported`:{}}}]""");
    }

    static List<JsonNode> deviceJobs() {
        return list("""
            [{`deviceId`:`d1`,`jobId`:`j1`,`jobType`:`scheduleDeviceMethod`,`status`:`completed`,
              `startTimeUtc`:`2024-05-01T10:00:00Z`,`endTimeUtc`:`2024-05-01T10:00:01Z`,
              `createdDateTimeUtc`:`2024-05-01T10:00:00Z`,`lastUpdatedDateTimeUtc`:`2024-05-01T10:00:01Z`,
              `outcome`:{`deviceMethodResponse`:{`status`:200,`payload`:`ok`}}},
             {`deviceId`:`d2`,`jobId`:`j1`,`jobType`:`scheduleDeviceMethod`,`status`:`failed`,
              `startTimeUtc`:`2024-05-01T10:00:00Z`,`createdDateTimeUtc`:`2024-05-01T10:00:00Z`,
              `error`:{`code`:`DeviceNotOnline`,`description`:`Timed out waiting for device to connect.`}},
             {`deviceId`:`d1`,`jobId`:`j2`,`jobType`:`scheduleUpdateTwin`,`status`:`completed`,
              `startTimeUtc`:`2015-01-01T00:00:00Z`,`createdDateTimeUtc`:`2015-01-01T00:00:00Z`,
              `outcome`:{`deviceMethodResponse`:null}}]""");
    }
}
