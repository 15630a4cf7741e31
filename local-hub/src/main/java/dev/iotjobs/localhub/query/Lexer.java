package dev.iotjobs.localhub.query;

import java.util.ArrayList;
import java.util.List;

/** Splits query text into {@link Token}s with 1-based positions. Keywords are returned as identifiers. */
final class Lexer {
    private final String text;
    private final List<Token> tokens = new ArrayList<>();
    private int i;

    private Lexer(String text) {
        this.text = text;
    }

    /** Tokenizes the whole text; the list always ends with an {@link TokenType#EOF} token. */
    static List<Token> tokenize(String text) {
        Lexer lexer = new Lexer(text);
        lexer.run();
        return lexer.tokens;
    }

    private void run() {
        int n = text.length();
        while (true) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n) {
                tokens.add(new Token(TokenType.EOF, "", n + 1));
                return;
            }
            char c = text.charAt(i);
            int start = i;
            if (isIdentStart(c)) {
                i++;
                while (i < n && (isIdentPart(text.charAt(i)) || isInnerHyphen(i))) {
                    i++;
                }
                add(TokenType.IDENT, text.substring(start, i), start);
            } else if (c >= '0' && c <= '9') {
                number(start);
            } else if (c == '\'' || c == '"') {
                string(c, start);
            } else if (c == '[' && text.startsWith("[[", i) && previousIs(TokenType.DOT)) {
                escaped(start);
            } else {
                symbol(c, start);
            }
        }
    }

    private void add(TokenType type, String value, int start) {
        tokens.add(new Token(type, value, start + 1));
    }

    private boolean previousIs(TokenType type) {
        return !tokens.isEmpty() && tokens.get(tokens.size() - 1).is(type);
    }

    static boolean isIdentStart(char c) {
        return Character.isLetter(c) || c == '_' || c == '$';
    }

    static boolean isIdentPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    /**
     * Whether the {@code -} at {@code at} continues the identifier being read: a hyphen directly between two
     * identifier characters belongs to the name, as in IoT Hub, where twin keys may contain {@code -} and
     * {@code properties.desired.KeyQuery3f1c0e8a-5b2d-4c7e-9a10-2b3c4d5e6f70} is one path segment (the
     * Azure SDKs' own query tests build such keys from random UUIDs, including all-digit groups such as
     * {@code -4123}). So {@code x-1} is the name {@code x-1}; subtraction after a name needs a blank or a
     * parenthesis: {@code x - 1}, {@code x -1}, {@code (x)-1}. The caller only asks while inside an
     * identifier, so a hyphen after a number, string, bracket or blank stays a minus ({@code 5-3},
     * {@code 1-x}, {@code a- b}, {@code a--b} all subtract).
     */
    private boolean isInnerHyphen(int at) {
        return text.charAt(at) == '-' && at + 1 < text.length() && isIdentPart(text.charAt(at + 1));
    }

    private void number(int start) {
        int n = text.length();
        if (text.charAt(i) == '0' && i + 1 < n && (text.charAt(i + 1) == 'x' || text.charAt(i + 1) == 'X')) {
            i += 2;
            int digits = i;
            while (i < n && Character.digit(text.charAt(i), 16) >= 0) {
                i++;
            }
            if (i == digits) {
                throw Errors.syntax(start + 1, "invalid hexadecimal number '" + text.substring(start, i) + "'");
            }
        } else {
            digits(n);
            if (i + 1 < n && text.charAt(i) == '.' && Character.isDigit(text.charAt(i + 1))) {
                i++;
                digits(n);
            }
            if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
                int save = i;
                i++;
                if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                    i++;
                }
                if (i < n && Character.isDigit(text.charAt(i))) {
                    digits(n);
                } else {
                    i = save;
                }
            }
        }
        if (i < n && isIdentPart(text.charAt(i))) {
            throw Errors.syntax(start + 1, "invalid number '" + text.substring(start, i + 1) + "'");
        }
        add(TokenType.NUMBER, text.substring(start, i), start);
    }

    private void digits(int n) {
        while (i < n && Character.isDigit(text.charAt(i))) {
            i++;
        }
    }

    private void string(char quote, int start) {
        StringBuilder sb = new StringBuilder();
        int n = text.length();
        i++;
        while (true) {
            if (i >= n) {
                throw Errors.syntax(start + 1, "unterminated string literal");
            }
            char c = text.charAt(i);
            if (c == quote) {
                i++;
                break;
            }
            if (c == '\\') {
                if (i + 1 >= n) {
                    throw Errors.syntax(start + 1, "unterminated string literal");
                }
                char e = text.charAt(i + 1);
                switch (e) {
                    case '\'', '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        sb.append(unicode(i));
                        i += 4;
                    }
                    default -> throw Errors.syntax(i + 1, "invalid escape sequence '\\" + e + "' in string");
                }
                i += 2;
            } else {
                sb.append(c);
                i++;
            }
        }
        add(TokenType.STRING, sb.toString(), start);
    }

    private char unicode(int backslash) {
        if (backslash + 6 > text.length()) {
            throw Errors.syntax(backslash + 1, "invalid \\u escape: expected 4 hexadecimal digits");
        }
        int v = 0;
        for (int k = backslash + 2; k < backslash + 6; k++) {
            int d = Character.digit(text.charAt(k), 16);
            if (d < 0) {
                throw Errors.syntax(backslash + 1, "invalid \\u escape: expected 4 hexadecimal digits");
            }
            v = v * 16 + d;
        }
        return (char) v;
    }

    private void escaped(int start) {
        int end = text.indexOf("]]", i + 2);
        if (end < 0) {
            throw Errors.syntax(start + 1, "unterminated '[[' escaped name: expected ']]'");
        }
        String name = text.substring(i + 2, end);
        if (name.isEmpty()) {
            throw Errors.syntax(start + 1, "empty '[[]]' escaped name");
        }
        i = end + 2;
        add(TokenType.ESCAPED, name, start);
    }

    private void symbol(char c, int start) {
        char next = i + 1 < text.length() ? text.charAt(i + 1) : '\0';
        TokenType type;
        int len = 1;
        switch (c) {
            case '(' -> type = TokenType.LPAREN;
            case ')' -> type = TokenType.RPAREN;
            case '[' -> type = TokenType.LBRACKET;
            case ']' -> type = TokenType.RBRACKET;
            case ',' -> type = TokenType.COMMA;
            case '.' -> type = TokenType.DOT;
            case '*' -> type = TokenType.STAR;
            case '+' -> type = TokenType.PLUS;
            case '-' -> type = TokenType.MINUS;
            case '/' -> type = TokenType.SLASH;
            case '%' -> type = TokenType.PERCENT;
            case '=' -> type = TokenType.EQ;
            case '!' -> {
                if (next != '=') {
                    throw Errors.syntax(start + 1, "unexpected character '!' (did you mean '!='?)");
                }
                type = TokenType.NE;
                len = 2;
            }
            case '<' -> {
                if (next == '=') {
                    type = TokenType.LE;
                    len = 2;
                } else if (next == '>') {
                    type = TokenType.NE;
                    len = 2;
                } else {
                    type = TokenType.LT;
                }
            }
            case '>' -> {
                if (next == '=') {
                    type = TokenType.GE;
                    len = 2;
                } else {
                    type = TokenType.GT;
                }
            }
            default -> throw Errors.syntax(start + 1, "unexpected character '" + c + "'");
        }
        i += len;
        add(type, text.substring(start, i), start);
    }
}
