package dev.iotjobs.localhub.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.iotjobs.localhub.model.HubException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Table-driven checks of WHERE semantics, projections, aggregates and errors, as Microsoft's "IoT Hub query language for device and module twins, jobs, and message routing" documents them. */
class QueryEvaluationTest {
    private static final List<JsonNode> TWINS = Fixtures.twins();

    private static String ids(List<ObjectNode> rows) {
        return rows.stream().map(r -> r.path("deviceId").asText()).collect(Collectors.joining(","));
    }

    /** WHERE condition -> matching twin ids (in document order); "" means none match. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
        // string values compare case-sensitively, both quote styles
        "tags.site = 'A'                                  | d1",
        "tags.site = 'a'                                  | d2",
        "tags.site = \"A\"                                | d1",
        "tags.quote = 'it\\'s'                            | d2",
        "tags.quote = \"it's\"                            | d2",
        // numbers compare numerically regardless of int/float; cross-type is not true
        "tags.floor = 3                                   | d1,d2",
        "tags.floor = 3.0                                 | d1,d2",
        "tags.floor = '3'                                 | d3",
        "tags.floor != 3                                  | d5",
        "tags.floor <> 3                                  | d5",
        "tags.floor > 2                                   | d1,d2,d5",
        "tags.floor >= 3 AND tags.floor <= 3              | d1,d2",
        "tags.floor < 5                                   | d1,d2",
        "tags.floor > 'a'                                 | ''",
        "NOT (tags.floor > 'a')                           | d3",
        "tags.floor = 0x5                                 | d5",
        "tags.flag = true                                 | d4",
        "tags.flag                                        | d4",
        "tags.flag = 1                                    | ''",
        "tags.site                                        | ''",
        // undefined: every comparison with a missing property is not true, including != and NIN
        "tags.site != 'A'                                 | d2,d3",
        "tags.missing != 'x'                              | ''",
        "tags.site NIN ['A']                              | d2,d3",
        "NOT tags.site = 'A'                              | d2,d3",
        "NOT IS_DEFINED(tags.site)                        | d4,d5",
        "tags.site = 'A' OR tags.missing = 1              | d1",
        "tags.missing = 1 OR tags.site = 'A'              | d1",
        "NOT (tags.missing = 1 AND tags.site = 'zz')      | d1,d2,d3",
        "NOT (tags.missing = 1 AND tags.floor = 5)        | d1,d2",
        "undefined = undefined                            | ''",
        // null
        "tags.nullTag = null                              | d1",
        "IS_DEFINED(tags.nullTag)                         | d1",
        "IS_NULL(tags.nullTag)                            | d1",
        "tags.site = null                                 | ''",
        "null = null                                      | d1,d2,d3,d4,d5",
        // IN / NIN
        "tags.site IN ['A','B']                           | d1,d3",
        "tags.site IN []                                  | ''",
        "tags.site NIN []                                 | d1,d2,d3",
        "tags.floor IN [3]                                | d1,d2",
        "tags.floor IN [3.0, 'x']                         | d1,d2",
        "tags.floor IN [-1, 5]                            | d5",
        "tags.floor NOT IN [3, '3']                       | d5",
        "tags.flag IN [false]                             | d5",
        "tags.loc IN [1]                                  | ''",
        // root/system names are case-insensitive; values are not
        "DeviceId IN ['d1','d3']                          | d1,d3",
        "deviceid = 'd2'                                  | d2",
        "DEVICEID = 'D2'                                  | ''",
        "STATUS = 'disabled'                              | d2",
        "ConnectionState = 'Connected' AND Version > 1    | d1",
        "lastActivityTime > '2024-01-01'                  | d1,d4,d5",
        // user keys: exact case first, then case-insensitive fallback
        "Properties.Reported.FW = '2.0'                   | d1,d2,d4",
        "tags.ENV = 'prod'                                | d1",
        "tags.env = 'prod'                                | d1",
        "tags.Mode = 'upper'                              | d3",
        "tags.mode = 'lower'                              | d3",
        "tags.mode = 'upper'                              | ''",
        // $-segments and [[escaped]] names
        "properties.desired.$version = 4                  | d1",
        "properties.reported.$version > 1                 | d1,d2",
        "properties.desired.$metadata.fw.$lastUpdatedVersion = 4 | d1",
        "properties.desired.$METADATA.$lastupdated > '2024' | d1",
        "tags.[[group]].name = 'g1'                       | d1",
        // precedence NOT > AND > OR, parentheses
        "tags.site = 'A' OR tags.site = 'B' AND tags.floor = 3 | d1",
        "(tags.site = 'A' OR tags.site = 'B') AND IS_STRING(tags.floor) | d3",
        "NOT tags.site = 'A' AND tags.floor = 3           | d2",
        "NOT (tags.site = 'A' OR tags.site = 'a')         | d3",
        // arithmetic
        "properties.reported.temp + 10 > 35               | d2",
        "tags.floor * 2 = 6                               | d1,d2",
        "tags.floor % 2 = 1                               | d1,d2,d5",
        "-tags.floor = -5                                 | d5",
        "tags.floor / 2 = 1.5                             | d1,d2",
        "tags.floor / 0 = 1                               | ''",
        "tags.site + 1 = 1                                | ''",
        // functions
        "STARTS_WITH(deviceId, 'd')                       | d1,d2,d3,d4,d5",
        "startswith(properties.reported.fw, '2.1')        | d3",
        "ENDS_WITH(properties.reported.fw, '.0')          | d1,d2,d4",
        "EndsWith(properties.reported.fw, '.1')           | d3",
        "CONTAINS(tags.site, 'B')                         | d3",
        "NOT CONTAINS(tags.site, 'B')                     | d1,d2",
        "IS_NUMBER(tags.floor)                            | d1,d2,d5",
        "IS_STRING(tags.floor)                            | d3",
        "IS_OBJECT(tags.group)                            | d1",
        "IS_ARRAY(tags.list)                              | d5",
        "IS_BOOL(tags.flag)                               | d4,d5",
        "IS_PRIMITIVE(tags.site)                          | d1,d2,d3",
        "IS_PRIMITIVE(tags.nullTag)                       | d1",
        "IS_DEFINED(DeviceId)                             | d1,d2,d3,d4,d5",
        // objects cannot be compared
        "tags.loc = tags.loc                              | ''",
        "true                                             | d1,d2,d3,d4,d5",
        "false                                            | ''",
    })
    void whereConditions(String condition, String expectedIds) {
        Query q = Query.parse("SELECT * FROM devices WHERE " + condition);
        assertEquals(expectedIds, ids(q.execute(TWINS)), condition);
        // the same body as a job queryCondition gives the same devices
        String viaCondition = TWINS.stream().filter(Condition.parse(condition)::matches)
                .map(t -> t.get("deviceId").asText()).collect(Collectors.joining(","));
        assertEquals(expectedIds, viaCondition, "queryCondition " + condition);
    }

    /** Full query -> exact result rows (JSON, backquotes for double quotes). */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "SELECT deviceId, tags.site AS s FROM devices WHERE tags.floor = 3 | [{`deviceId`:`d1`,`s`:`A`},{`deviceId`:`d2`,`s`:`a`}]",
        "SELECT DeviceId, LastActivityTime FROM devices WHERE deviceId = 'd1' | [{`deviceId`:`d1`,`lastActivityTime`:`2024-05-01T09:58:12.3Z`}]",
        "SELECT tags.loc.floor, tags.loc FROM devices WHERE deviceId = 'd1' | [{`floor`:3,`loc`:{`floor`:3}}]",
        "SELECT tags.site FROM devices WHERE deviceId = 'd4'               | [{}]",
        "SELECT tags.nullTag FROM devices WHERE deviceId = 'd1'            | [{`nullTag`:null}]",
        "SELECT properties.desired.$version AS v FROM devices WHERE deviceId = 'd1' | [{`v`:4}]",
        "SELECT COUNT() AS n FROM devices                                  | [{`n`:5}]",
        "select count() as total from devices where tags.floor = 3         | [{`total`:2}]",
        "SELECT COUNT() AS n FROM devices WHERE tags.site = 'nope'         | [{`n`:0}]",
        "SELECT COUNT() FROM devices                                       | [{`$1`:5}]",
        "SELECT properties.reported.fw AS fw, COUNT() AS n FROM devices GROUP BY properties.reported.fw | [{`fw`:`2.0`,`n`:3},{`fw`:`2.1`,`n`:1},{`n`:1}]",
        "SELECT status, connectionState AS c, COUNT() AS n FROM devices GROUP BY status, connectionState | [{`status`:`enabled`,`c`:`Connected`,`n`:3},{`status`:`disabled`,`c`:`Disconnected`,`n`:1},{`status`:`enabled`,`c`:`Disconnected`,`n`:1}]",
        "SELECT tags.floor AS f, COUNT() AS n FROM devices WHERE IS_NUMBER(tags.floor) GROUP BY tags.floor | [{`f`:3,`n`:2},{`f`:5,`n`:1}]",
        "SELECT COUNT() AS n FROM devices GROUP BY status                  | [{`n`:4},{`n`:1}]",
        "SELECT TOP 1 properties.reported.fw AS fw, COUNT() AS n FROM devices GROUP BY properties.reported.fw | [{`fw`:`2.0`,`n`:3}]",
        "SELECT SUM(tags.floor) AS s, MIN(tags.floor) AS lo, MAX(tags.floor) AS hi, AVG(properties.reported.temp) AS t FROM devices | [{`s`:11.0,`lo`:3,`hi`:5,`t`:25.75}]",
        "SELECT SUM(version) AS s, AVG(tags.none) AS a FROM devices        | [{`s`:16}]",
        "SELECT TOP 2 deviceId FROM devices                                | [{`deviceId`:`d1`},{`deviceId`:`d2`}]",
        "SELECT TOP 0 deviceId FROM devices                                | []",
        "SELECT TOP 1 deviceId FROM devices WHERE tags.floor = 3           | [{`deviceId`:`d1`}]",
    })
    void projectionsAndAggregates(String query, String expectedJson) {
        List<ObjectNode> rows = Query.parse(query).execute(TWINS);
        assertEquals(Fixtures.json(expectedJson), Fixtures.json(Fixtures.MAPPER.valueToTree(rows).toString()), query);
    }

    @Test
    void selectStarReturnsTheDocumentsThemselvesWithTop() {
        Query q = Query.parse("SELECT TOP 2 * FROM devices WHERE STATUS = 'enabled'");
        assertTrue(q.isSelectStar());
        assertEquals(Source.DEVICES, q.source());
        List<ObjectNode> rows = q.execute(TWINS);
        assertEquals("d1,d3", ids(rows));
        assertSame(TWINS.get(0), rows.get(0));
        assertEquals(5, Query.parse("select * from devices").execute(TWINS).size());
        assertSame(Condition.ALWAYS, Query.parse("select * from devices").where());
        assertEquals(0, Query.parse("SELECT TOP 0 * FROM devices").execute(TWINS).size());
    }

    @Test
    void deviceJobs() {
        List<JsonNode> jobs = Fixtures.deviceJobs();
        Query q = Query.parse("select * from devices.jobs where devices.jobs.jobId = 'j1' ");
        assertEquals(Source.DEVICES_JOBS, q.source());
        assertTrue(q.isSelectStar());
        List<ObjectNode> rows = q.execute(jobs);
        assertEquals(2, rows.size());
        assertSame(jobs.get(0), rows.get(0));
        assertEquals(1, Query.parse("select * from devices.jobs where devices.jobs.jobId = 'j1' and "
                + "devices.jobs.jobType = 'scheduleDeviceMethod' and devices.jobs.status = 'completed' ").execute(jobs).size());
        assertEquals("d1", Query.parse("SELECT * FROM devices.jobs WHERE jobId = 'j2'").execute(jobs).get(0)
                .get("deviceId").asText());
        assertEquals(0, Query.parse("SELECT * FROM devices.jobs WHERE devices.jobs.status = 'Completed'")
                .execute(jobs).size(), "values are case-sensitive");
        assertEquals(2, Query.parse("SELECT * FROM devices.jobs WHERE devices.jobs.createdDateTimeUtc > '2016-09-01'")
                .execute(jobs).size());
        assertEquals(1, Query.parse("SELECT * FROM devices.jobs WHERE devices.jobs.error.code = 'DeviceNotOnline'")
                .execute(jobs).size());
        assertEquals(1, Query.parse("SELECT * FROM devices.jobs WHERE outcome.deviceMethodResponse.status = 200")
                .execute(jobs).size());
        assertEquals(3, Query.parse("SELECT * FROM devices.jobs").execute(jobs).size());
    }

    @Test
    void moduleTwins() {
        List<JsonNode> modules = Fixtures.modules();
        assertEquals(2, Query.parse("SELECT * FROM devices.modules WHERE moduleId = 'm1'").execute(modules).size());
        assertEquals(1, Query.parse("SELECT * FROM devices.modules WHERE devices.modules.moduleId = 'm2'")
                .execute(modules).size());
        assertEquals(Fixtures.json("[{`deviceId`:`d1`,`moduleId`:`m1`}]"), Fixtures.MAPPER.valueToTree(
                Query.parse("SELECT deviceId, ModuleId FROM devices.modules WHERE tags.role = 'edge'").execute(modules)));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "SELECT * FROM devices WHERE foo(tags.x)                 | Invalid query at position 29: unknown function 'foo'",
        "SELECT * FROM devices WHERE LOWER(tags.x) = 'a'         | Invalid query at position 29: unknown function 'LOWER'",
        "SELECT * FROM devices WHERE COUNT() = 1                 | Invalid query at position 29: unknown function 'COUNT'",
        "SELECT * FROM devices WHERE IS_DEFINED(tags.x, tags.y)  | Invalid query at position 29: function 'IS_DEFINED' takes 1 argument but was given 2",
        "SELECT * FROM devices WHERE STARTS_WITH(deviceId)       | Invalid query at position 29: function 'STARTS_WITH' takes 2 arguments",
        "SELECT deviceId FROM devices.jobs                       | Invalid query at position 8: FROM devices.jobs supports only SELECT *",
        "SELECT COUNT() AS n FROM devices.jobs                   | Invalid query at position 8: FROM devices.jobs supports only SELECT *",
        "SELECT * FROM devices.jobs GROUP BY status              | Invalid query at position 37: GROUP BY is not supported on devices.jobs",
        "SELECT * FROM devices GROUP BY tags.x                   | Invalid query at position 32: GROUP BY needs a SELECT list",
        "SELECT deviceId, COUNT() AS n FROM devices              | Invalid query at position 8: 'deviceId' must appear in GROUP BY",
        "SELECT tags.a, COUNT() AS n FROM devices GROUP BY tags.b | Invalid query at position 8: 'tags.a' must appear in GROUP BY",
        "SELECT tags.a.x, tags.b.x FROM devices                  | Invalid query at position 18: duplicate result name 'x'",
        "SELECT * FROM devices WHERE tags.x = 'abc               | Syntax error at position 38: unterminated string literal",
    })
    void semanticErrors(String query, String expectedPrefix) {
        HubException e = assertThrows(HubException.class, () -> Query.parse(query));
        assertEquals(Errors.CODE, e.errorCode());
        assertEquals(400, e.errorCode().httpStatus());
        assertTrue(e.getMessage().startsWith(expectedPrefix), () -> "got: " + e.getMessage());
    }

    @Test
    void groupByMatchesSelectPathsCaseInsensitively() {
        List<ObjectNode> rows = Query.parse(
                "SELECT Properties.Reported.fw AS fw, COUNT() AS n FROM devices GROUP BY properties.reported.fw")
                .execute(TWINS);
        assertEquals(3, rows.size());
    }

    @Test
    void queryTextLimitIs8192Characters() {
        String base = "SELECT * FROM devices WHERE deviceId = '";
        String ok = base + "x".repeat(8192 - base.length() - 1) + "'";
        assertEquals(8192, ok.length());
        assertEquals(0, Query.parse(ok).execute(TWINS).size());
        String tooLong = base + "x".repeat(8192 - base.length()) + "'";
        HubException e = assertThrows(HubException.class, () -> Query.parse(tooLong));
        assertEquals(Errors.CODE, e.errorCode());
        assertTrue(e.getMessage().contains("position 8193") && e.getMessage().contains("8192"), e.getMessage());
    }

    @Test
    void nullTextIsA400() {
        HubException e = assertThrows(HubException.class, () -> Query.parse(null));
        assertEquals(Errors.CODE, e.errorCode());
        assertThrows(HubException.class, () -> Condition.parse(null));
    }

    @Test
    void sdkRawQueryShapeAndFlags() {
        Query q = Query.parse("SELECT properties.reported.fw AS fw, COUNT() AS numberOfDevices FROM devices "
                + "GROUP BY properties.reported.fw");
        assertTrue(q.isAggregate());
        assertEquals(false, q.isSelectStar());
        assertEquals(-1, q.top());
        assertEquals(Fixtures.json("{`fw`:`2.0`,`numberOfDevices`:3}"), q.execute(TWINS).get(0));
        Query p = Query.parse("SELECT TOP 7 deviceId FROM devices");
        assertEquals(false, p.isAggregate());
        assertEquals(7, p.top());
    }

    @Test
    void projectionCopiesContainersAndKeepsSelectOrder() {
        ObjectNode row = Query.parse("SELECT tags.loc AS loc, deviceId FROM devices WHERE deviceId = 'd1'")
                .execute(TWINS).get(0);
        assertEquals(List.of("loc", "deviceId"), iterable(row.fieldNames()));
        ((ObjectNode) row.get("loc")).put("floor", 99);
        assertEquals(3, TWINS.get(0).get("tags").get("loc").get("floor").asInt(), "source twin unchanged");
    }

    private static List<String> iterable(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void unicodeEscapesAndNonAsciiValues() {
        List<JsonNode> docs = Fixtures.list("[{`deviceId`:`x`,`tags`:{`city`:`Zürich`}}]");
        assertEquals(1, Query.parse("SELECT * FROM devices WHERE tags.city = 'Z\\u00fcrich'").execute(docs).size());
        assertEquals(1, Query.parse("SELECT * FROM devices WHERE tags.city = 'Zürich'").execute(docs).size());
        assertEquals(0, Query.parse("SELECT * FROM devices WHERE tags.city = 'zürich'").execute(docs).size());
    }
}
