package dev.iotjobs.localhub.query;

import dev.iotjobs.localhub.model.ErrorCode;
import dev.iotjobs.localhub.model.HubException;

/** Builds the 400 errors of the query layer; every message names the problem and a 1-based position. */
final class Errors {
    /** The code every malformed query or queryCondition is answered with (see README for the reasoning). */
    static final ErrorCode CODE = ErrorCode.ARGUMENT_INVALID;

    /** Maximum length of a query text or job queryCondition, in characters. */
    static final int MAX_QUERY_LENGTH = 8192;

    private Errors() {
    }

    static HubException syntax(int position, String problem) {
        return CODE.exception("Syntax error at position " + position + ": " + problem);
    }

    static HubException semantic(int position, String problem) {
        return CODE.exception("Invalid query at position " + position + ": " + problem);
    }

    static void checkLength(String text) {
        if (text == null) {
            throw CODE.exception("Invalid query at position 1: the query text is missing");
        }
        if (text.length() > MAX_QUERY_LENGTH) {
            throw CODE.exception("Invalid query at position " + (MAX_QUERY_LENGTH + 1)
                    + ": the query text is " + text.length() + " characters long; the maximum is "
                    + MAX_QUERY_LENGTH);
        }
    }
}
