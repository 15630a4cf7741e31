package dev.iotjobs.localhub.device;

import dev.iotjobs.localhub.model.ErrorCode;

/** If-Match handling shared by devices and twins: quotes and W/ are ignored, * matches anything. */
public final class Etags {
    private Etags() {
    }

    public static void check(String ifMatch, String currentEtag) {
        if (ifMatch == null) {
            return;
        }
        String wanted = ifMatch.trim();
        if (wanted.startsWith("W/")) {
            wanted = wanted.substring(2);
        }
        if (wanted.length() >= 2 && wanted.startsWith("\"") && wanted.endsWith("\"")) {
            wanted = wanted.substring(1, wanted.length() - 1);
        }
        if (!wanted.equals("*") && !wanted.equals(currentEtag)) {
            throw ErrorCode.PRECONDITION_FAILED.exception("The etag in the request (" + ifMatch
                    + ") does not match the current etag (" + currentEtag + ").");
        }
    }
}
