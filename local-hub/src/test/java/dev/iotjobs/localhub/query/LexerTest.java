package dev.iotjobs.localhub.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.iotjobs.localhub.model.HubException;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LexerTest {

    private static String types(String text) {
        return Lexer.tokenize(text).stream().map(t -> t.type().name()).collect(Collectors.joining(" "));
    }

    @Test
    void tokenTypesAndPositionsAreOneBased() {
        List<Token> tokens = Lexer.tokenize("select * from devices where tags.x = 'y' ");
        assertEquals("IDENT STAR IDENT IDENT IDENT IDENT DOT IDENT EQ STRING EOF",
                tokens.stream().map(t -> t.type().name()).collect(Collectors.joining(" ")));
        assertEquals(1, tokens.get(0).position());
        assertEquals(8, tokens.get(1).position());
        assertEquals(29, tokens.get(5).position());
        assertEquals("y", tokens.get(9).text());
        assertEquals(38, tokens.get(9).position());
        assertEquals(42, tokens.get(10).position(), "EOF is one past the last character");
    }

    @Test
    void operators() {
        assertEquals("EQ NE NE LT GT LE GE PLUS MINUS STAR SLASH PERCENT EOF", types("= != <> < > <= >= + - * / %"));
        assertEquals("IDENT LE NUMBER EOF", types("a<=1"));
        assertEquals("LPAREN RPAREN LBRACKET RBRACKET COMMA DOT EOF", types("()[],."));
    }

    @Test
    void stringsWithBothQuotesAndEscapes() {
        List<Token> t = Lexer.tokenize("'it\\'s' \"say \\\"hi\\\"\" 'a\\\\b' '\\u0041\\n' \"it's\"");
        assertEquals("it's", t.get(0).text());
        assertEquals("say \"hi\"", t.get(1).text());
        assertEquals("a\\b", t.get(2).text());
        assertEquals("A\n", t.get(3).text());
        assertEquals("it's", t.get(4).text());
        assertEquals(TokenType.STRING, t.get(4).type());
    }

    @Test
    void numbers() {
        List<Token> t = Lexer.tokenize("42 3.5 1e3 2.5E-2 0x1F");
        assertEquals(List.of("42", "3.5", "1e3", "2.5E-2", "0x1F"),
                t.subList(0, 5).stream().map(Token::text).collect(Collectors.toList()));
        assertTrue(t.subList(0, 5).stream().allMatch(x -> x.is(TokenType.NUMBER)));
    }

    @Test
    void dollarIdentifiersAndEscapedSegments() {
        List<Token> t = Lexer.tokenize("properties.desired.$version tags.[[group]].name");
        assertEquals("$version", t.get(4).text());
        assertEquals(TokenType.IDENT, t.get(4).type());
        assertEquals(TokenType.ESCAPED, t.get(7).type());
        assertEquals("group", t.get(7).text());
        assertEquals(34, t.get(7).position());
        assertEquals("LBRACKET LBRACKET NUMBER RBRACKET RBRACKET EOF", types("[[1]]"),
                "'[[' not after a dot is a nested array literal");
    }

    @Test
    void errorsNamePositions() {
        HubException e = assertThrows(HubException.class, () -> Lexer.tokenize("a = 'abc"));
        assertEquals(Errors.CODE, e.errorCode());
        assertEquals("Syntax error at position 5: unterminated string literal", e.getMessage());
        e = assertThrows(HubException.class, () -> Lexer.tokenize("a ! b"));
        assertTrue(e.getMessage().startsWith("Syntax error at position 3: unexpected character '!'"), e.getMessage());
        e = assertThrows(HubException.class, () -> Lexer.tokenize("x = #"));
        assertTrue(e.getMessage().startsWith("Syntax error at position 5:"), e.getMessage());
        e = assertThrows(HubException.class, () -> Lexer.tokenize("x = 12ab"));
        assertTrue(e.getMessage().contains("position 5: invalid number"), e.getMessage());
        e = assertThrows(HubException.class, () -> Lexer.tokenize("x = 'a\\q'"));
        assertTrue(e.getMessage().contains("position 7: invalid escape"), e.getMessage());
        e = assertThrows(HubException.class, () -> Lexer.tokenize("tags.[[group"));
        assertTrue(e.getMessage().contains("position 6: unterminated '[['"), e.getMessage());
    }
}
