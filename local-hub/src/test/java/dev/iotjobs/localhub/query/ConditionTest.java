package dev.iotjobs.localhub.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.iotjobs.localhub.model.HubException;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Job queryCondition: WHERE body only, "*" = all devices. */
class ConditionTest {
    private static final List<JsonNode> TWINS = Fixtures.twins();

    private static String matching(Condition c) {
        return TWINS.stream().filter(c::matches).map(t -> t.get("deviceId").asText()).collect(Collectors.joining(","));
    }

    @Test
    void starMatchesEverything() {
        assertSame(Condition.ALWAYS, Condition.parse("*"));
        assertSame(Condition.ALWAYS, Condition.parse(" * "));
        assertEquals("d1,d2,d3,d4,d5", matching(Condition.ALWAYS));
    }

    @Test
    void documentedExamples() {
        assertEquals("d1", matching(Condition.parse("deviceId = 'd1'")));
        assertEquals("d1,d2", matching(Condition.parse("deviceId IN ['d1','d2']")));
        assertEquals("d2", matching(Condition.parse("tags.site = 'a' AND properties.reported.fw != '2.1'")));
        assertEquals("d1,d2,d3,d4,d5", matching(Condition.parse("IS_DEFINED(DeviceId)")));
    }

    @Test
    void longInListWithinTheLimit() {
        String ids = IntStream.range(0, 600).mapToObj(i -> "'dev-" + i + "'").collect(Collectors.joining(","));
        Condition c = Condition.parse("deviceId IN [" + ids + ",'d4']");
        assertEquals("d4", matching(c));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT * FROM devices WHERE deviceId = 'd1'",
        "select * from devices",
        "FROM devices WHERE deviceId = 'd1'",
        "WHERE deviceId = 'd1'",
        "",
        "deviceId = ",
        "deviceId = 'd1' GROUP BY status",
        "UNKNOWN_FN(deviceId)",
    })
    void invalidConditionsAre400(String text) {
        HubException e = assertThrows(HubException.class, () -> Condition.parse(text));
        assertEquals(400, e.errorCode().httpStatus());
        assertTrue(e.getMessage().matches(".*position \\d+: .*"), e.getMessage());
    }

    @Test
    void matchesOnlyBooleanTrue() {
        assertFalse(Condition.parse("tags.site").matches(TWINS.get(0)));
        assertFalse(Condition.parse("tags.missing = 1").matches(TWINS.get(0)));
        assertFalse(Condition.parse("NOT (tags.missing = 1)").matches(TWINS.get(0)));
        assertTrue(Condition.parse("NOT (tags.site = 'x')").matches(TWINS.get(0)));
    }

    @Test
    void tooLongConditionIsRejected() {
        String text = "deviceId IN ['" + "x".repeat(8200) + "']";
        assertThrows(HubException.class, () -> Condition.parse(text));
    }
}
