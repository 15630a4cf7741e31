package dev.iotjobs.localhub.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.iotjobs.localhub.model.HubException;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ParserTest {

    /** Renders an expression tree in prefix form to check its shape. */
    private static String shape(Ast.Expr e) {
        if (e instanceof Ast.Literal l) {
            return l.value() == null ? "undefined" : l.value().toString();
        }
        if (e instanceof Ast.Path p) {
            return p.text();
        }
        if (e instanceof Ast.Not n) {
            return "(NOT " + shape(n.operand()) + ")";
        }
        if (e instanceof Ast.Negate n) {
            return "(- " + shape(n.operand()) + ")";
        }
        if (e instanceof Ast.Logical l) {
            return "(" + l.op() + " " + shape(l.left()) + " " + shape(l.right()) + ")";
        }
        if (e instanceof Ast.Compare c) {
            return "(" + c.op() + " " + shape(c.left()) + " " + shape(c.right()) + ")";
        }
        if (e instanceof Ast.Arith a) {
            return "(" + a.op() + " " + shape(a.left()) + " " + shape(a.right()) + ")";
        }
        if (e instanceof Ast.In in) {
            return "(" + (in.negated() ? "NIN " : "IN ") + shape(in.operand()) + " " + in.values() + ")";
        }
        Ast.Call c = (Ast.Call) e;
        return "(" + c.name() + " " + c.args().stream().map(ParserTest::shape).toList() + ")";
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a = 1 OR b = 2 AND c = 3         | (OR (EQ a 1) (AND (EQ b 2) (EQ c 3)))",
        "NOT a = 1 AND b = 2              | (AND (NOT (EQ a 1)) (EQ b 2))",
        "NOT NOT a                        | (NOT (NOT a))",
        "(a = 1 OR b = 2) AND c = 3       | (AND (OR (EQ a 1) (EQ b 2)) (EQ c 3))",
        "a + b * c >= 7 - 1               | (GE (ADD a (MUL b c)) (SUB 7 1))",
        "a % 2 <> 0                       | (NE (MOD a 2) 0)",
        "x IN ['a', \"b\", -1, 2.5, true, null] | (IN x [\"a\", \"b\", -1, 2.5, true, null])",
        "x NIN []                         | (NIN x [])",
        "x NOT IN [1]                     | (NIN x [1])",
        "IS_DEFINED(tags.x) OR is_null(tags.y) | (OR (IS_DEFINED [tags.x]) (is_null [tags.y]))",
        "-a < -3                          | (LT (- a) -3)",
        "properties.desired.$metadata.fw.$lastUpdated > '2024' | (GT properties.desired.$metadata.fw.$lastUpdated \"2024\")",
        "tags.[[group]].name = 'g'        | (EQ tags.group.name \"g\")",
        "x = undefined                    | (EQ x undefined)",
        "x = 0x10                         | (EQ x 16)",
        "a.SELECT = 1                     | (EQ a.SELECT 1)",
    })
    void conditionPrecedenceAndShapes(String text, String expected) {
        assertEquals(expected, shape(Parser.parseCondition(text)));
    }

    @Test
    void statementParts() {
        Ast.Statement st = Parser.parseStatement(
                "select top 5 deviceId, tags.loc AS loc, count() as n from devices where tags.x = 'y' group by deviceId, tags.loc ");
        assertEquals(5, st.top());
        assertEquals(Source.DEVICES, st.source());
        assertEquals(3, st.items().size());
        assertEquals("deviceId", st.items().get(0).path().text());
        assertNull(st.items().get(0).alias());
        assertEquals("loc", st.items().get(1).alias());
        assertEquals(Ast.Aggregate.COUNT, st.items().get(2).aggregate());
        assertEquals("n", st.items().get(2).alias());
        assertInstanceOf(Ast.Compare.class, st.where());
        assertEquals(List.of("deviceId", "tags.loc"), st.groupBy().stream().map(Ast.Path::text).toList());
    }

    @Test
    void sources() {
        assertEquals(Source.DEVICES, Parser.parseStatement("SELECT * FROM devices").source());
        assertEquals(Source.DEVICES_MODULES, Parser.parseStatement("SELECT * FROM Devices.Modules").source());
        Ast.Statement st = Parser.parseStatement("select * from devices.jobs where devices.jobs.jobId = 'j1' ");
        assertEquals(Source.DEVICES_JOBS, st.source());
        assertTrue(st.isSelectStar());
        assertEquals(-1, st.top());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "SELECT * FORM devices                          | Syntax error at position 10: expected FROM but found 'FORM'",
        "SELECT * FROM devices WHERE                    | Syntax error at position 28: expected a value, property path or function call but found end of query",
        "SELECT * FROM devices WHERE tags.x =           | Syntax error at position 37: expected a value",
        "SELECT * FROM things                           | Syntax error at position 15: expected devices, devices.modules or devices.jobs but found 'things'",
        "SELECT * FROM devices.twins                    | Syntax error at position 23: expected modules or jobs",
        "SELECT * FROM devices WHERE x = 1 y = 2        | Syntax error at position 35: expected AND, OR, GROUP BY or end of query but found 'y'",
        "SELECT * FROM devices WHERE x IN ('a')         | Syntax error at position 34: expected '[' starting an array literal but found '('",
        "SELECT * FROM devices WHERE x IN ['a' 'b']     | Syntax error at position 39: expected ',' or ']' but found string 'b'",
        "SELECT * FROM devices WHERE (x = 1             | Syntax error at position 35: expected ')' but found end of query",
        "SELECT * FROM devices WHERE group = 'x'        | Syntax error at position 29: expected a value, property path or function call but found 'group'",
        "SELECT * FROM devices WHERE tags. = 1          | Syntax error at position 35: expected a property name after '.' but found '='",
        "SELECT TOP x * FROM devices                    | Syntax error at position 12: expected a non-negative integer after TOP",
        "SELECT TOP 1.5 * FROM devices                  | Syntax error at position 12: expected a non-negative integer after TOP",
        "SELECT FROM devices                            | Syntax error at position 8: expected '*', a property path or an aggregate",
        "SELECT * FROM devices GROUP tags.x             | Syntax error at position 29: expected BY but found 'tags'",
        "SELECT COUNT(x) AS n FROM devices              | Syntax error at position 14: expected ')' (COUNT takes no argument)",
        "SELECT LOWER(deviceId) FROM devices            | Invalid query at position 8: unknown aggregate function 'LOWER'",
        "SELECT deviceId AS FROM devices                | Syntax error at position 20: expected an alias name after AS",
        "DELETE FROM devices                            | Syntax error at position 1: expected SELECT but found 'DELETE'",
        "42                                             | Syntax error at position 1: expected SELECT but found '42'",
    })
    void errorMessagesNameProblemAndPosition(String text, String expectedPrefix) {
        HubException e = assertThrows(HubException.class, () -> Parser.parseStatement(text));
        assertEquals(Errors.CODE, e.errorCode());
        assertTrue(e.getMessage().startsWith(expectedPrefix), () -> "got: " + e.getMessage());
    }

    @Test
    void conditionRejectsStatementsAndTrailingTokens() {
        HubException e = assertThrows(HubException.class,
                () -> Parser.parseCondition("SELECT * FROM devices WHERE deviceId = 'a'"));
        assertTrue(e.getMessage().startsWith("Invalid query at position 1: a queryCondition is only the WHERE body"),
                e.getMessage());
        e = assertThrows(HubException.class, () -> Parser.parseCondition("deviceId = 'a' )"));
        assertEquals("Syntax error at position 16: expected AND, OR or end of condition but found ')'", e.getMessage());
        e = assertThrows(HubException.class, () -> Parser.parseCondition("   "));
        assertTrue(e.getMessage().startsWith("Syntax error at position 4: expected a condition"), e.getMessage());
    }

    @Test
    void keywordsAreCaseInsensitive() {
        Ast.Statement st = Parser.parseStatement("SeLeCt ToP 3 * FrOm DEVICES wHeRe a = 1 aNd NoT b = 2 oR c nIn [1]");
        assertEquals(3, st.top());
        assertEquals("(OR (AND (EQ a 1) (NOT (EQ b 2))) (NIN c [1]))", shape(st.where()));
        assertFalse(st.groupBy().iterator().hasNext());
    }
}
