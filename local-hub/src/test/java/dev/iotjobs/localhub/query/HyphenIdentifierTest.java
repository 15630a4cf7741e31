package dev.iotjobs.localhub.query;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A hyphen directly between identifier characters is part of the name (twin keys built from UUIDs); a hyphen
 * with a blank, a number, a parenthesis or another operator next to it is a minus.
 */
class HyphenIdentifierTest {
    private static final String KEY = "KeyQuery3f1c0e8a-5b2d-4c7e-9a10-2b3c4d5e6f70";

    private static String tokens(String text) {
        return Lexer.tokenize(text).stream().map(t -> t.type() + (t.is(TokenType.IDENT) ? ":" + t.text() : ""))
                .collect(Collectors.joining(" "));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "a-b                | IDENT:a-b EOF",
        "x-1                | IDENT:x-1 EOF",
        "a-459d             | IDENT:a-459d EOF",
        "a-4123             | IDENT:a-4123 EOF",
        "$x-y               | IDENT:$x-y EOF",
        "a_b-c_d-e          | IDENT:a_b-c_d-e EOF",
        "a - b              | IDENT:a MINUS IDENT:b EOF",
        "a -b               | IDENT:a MINUS IDENT:b EOF",
        "a- b               | IDENT:a MINUS IDENT:b EOF",
        "a--b               | IDENT:a MINUS MINUS IDENT:b EOF",
        "a-(b)              | IDENT:a MINUS LPAREN IDENT:b RPAREN EOF",
        "(a)-1              | LPAREN IDENT:a RPAREN MINUS NUMBER EOF",
        "5-3                | NUMBER MINUS NUMBER EOF",
        "1-x                | NUMBER MINUS IDENT:x EOF",
        "x-'s'              | IDENT:x MINUS STRING EOF",
        "a-                 | IDENT:a MINUS EOF",
        "-a                 | MINUS IDENT:a EOF",
        "2.5E-2             | NUMBER EOF",
    })
    void hyphenRule(String text, String expected) {
        assertEquals(expected, tokens(text));
    }

    @Test
    void positionsAfterAHyphenatedNameStayRight() {
        List<Token> t = Lexer.tokenize("tags.a-b = 1");
        assertEquals("a-b", t.get(2).text());
        assertEquals(6, t.get(2).position());
        assertEquals(TokenType.EQ, t.get(3).type());
        assertEquals(10, t.get(3).position());
    }

    @Test
    void arithmeticWithBlanksStillSubtracts() {
        Condition c = Condition.parse("tags.a - tags.b = 2 AND tags.a -1 = 4 AND (tags.a)-1 = 4 AND 7-2 = tags.a");
        assertEquals(true, c.matches(Fixtures.json("{\"tags\":{\"a\":5,\"b\":3}}")));
        assertEquals(false, c.matches(Fixtures.json("{\"tags\":{\"a\":6,\"b\":3}}")));
    }

    @Test
    void hyphenatedKeysAreAddressedInWhereSelectAndGroupBy() {
        List<JsonNode> twins = Fixtures.list("["
                + "{\"deviceId\":\"d1\",\"properties\":{\"desired\":{\"" + KEY + "\":\"v1\"}}},"
                + "{\"deviceId\":\"d2\",\"properties\":{\"desired\":{\"" + KEY + "\":\"v1\"}}},"
                + "{\"deviceId\":\"d3\",\"properties\":{\"desired\":{\"" + KEY + "\":\"v2\"}}},"
                + "{\"deviceId\":\"d4\",\"tags\":{\"x-1\":7,\"x\":9}}]");
        // The query of the service SDK's own e2e test (QueryTwinTests), which IoT Hub accepts.
        Query q = Query.parse("SELECT properties.desired." + KEY + " AS " + KEY + ", COUNT() AS numberOfDevices "
                + "FROM devices GROUP BY properties.desired." + KEY);
        List<ObjectNode> rows = q.execute(twins);
        assertEquals("[{\"" + KEY + "\":\"v1\",\"numberOfDevices\":2}, {\"" + KEY + "\":\"v2\",\"numberOfDevices\":1}, "
                + "{\"numberOfDevices\":1}]", rows.toString());

        assertEquals(List.of("d3"), Query.parse("SELECT * FROM devices WHERE properties.desired." + KEY + " = 'v2'")
                .execute(twins).stream().map(r -> r.get("deviceId").asText()).toList());
        assertEquals(List.of("d4"), Query.parse("SELECT * FROM devices WHERE tags.x-1 = 7 AND tags.x - 1 = 8")
                .execute(twins).stream().map(r -> r.get("deviceId").asText()).toList());
        assertEquals("[{\"x-1\":7}]", Query.parse("SELECT tags.x-1 FROM devices WHERE deviceId = 'd4'")
                .execute(twins).toString());
    }
}
