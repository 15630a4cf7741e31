package dev.iotjobs.localhub.query;

import java.util.List;

/** Token-stream navigation shared by the parser: look-ahead, consumption and "expected X" errors. */
abstract class TokenCursor {
    private final List<Token> tokens;
    private int p;

    TokenCursor(List<Token> tokens) {
        this.tokens = tokens;
    }

    final Token peek() {
        return tokens.get(p);
    }

    final Token peekAt(int ahead) {
        return tokens.get(Math.min(p + ahead, tokens.size() - 1));
    }

    final Token next() {
        Token t = tokens.get(p);
        if (!t.is(TokenType.EOF)) {
            p++;
        }
        return t;
    }

    final boolean accept(TokenType type) {
        if (peek().is(type)) {
            next();
            return true;
        }
        return false;
    }

    final void expect(TokenType type, String what) {
        if (!accept(type)) {
            throw unexpected(what);
        }
    }

    final void expectKeyword(String keyword) {
        if (!peek().isKeyword(keyword)) {
            throw unexpected(keyword);
        }
        next();
    }

    final RuntimeException unexpected(String expected) {
        Token t = peek();
        return Errors.syntax(t.position(), "expected " + expected + " but found " + t.describe());
    }
}
