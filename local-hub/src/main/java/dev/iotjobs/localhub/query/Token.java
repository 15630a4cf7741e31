package dev.iotjobs.localhub.query;

/**
 * One lexical token.
 *
 * @param type     kind
 * @param text     identifier / raw name / decoded string value / number source text / operator text
 * @param position 1-based character position of the token's first character in the query
 */
record Token(TokenType type, String text, int position) {

    boolean is(TokenType t) {
        return type == t;
    }

    /** True for an identifier equal (case-insensitively) to the given keyword. */
    boolean isKeyword(String keyword) {
        return type == TokenType.IDENT && text.equalsIgnoreCase(keyword);
    }

    /** How the token is shown in error messages. */
    String describe() {
        return switch (type) {
            case EOF -> "end of query";
            case STRING -> "string '" + text + "'";
            case ESCAPED -> "'[[" + text + "]]'";
            default -> "'" + text + "'";
        };
    }
}
