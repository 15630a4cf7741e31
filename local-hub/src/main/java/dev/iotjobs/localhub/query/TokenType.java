package dev.iotjobs.localhub.query;

/** Kinds of tokens produced by {@link Lexer}. Keywords are plain {@link #IDENT}s; the parser decides. */
enum TokenType {
    IDENT,
    /** A {@code [[raw name]]} path segment; text is the raw name. */
    ESCAPED,
    STRING,
    NUMBER,
    LPAREN, RPAREN, LBRACKET, RBRACKET, COMMA, DOT,
    STAR, PLUS, MINUS, SLASH, PERCENT,
    EQ, NE, LT, GT, LE, GE,
    EOF
}
