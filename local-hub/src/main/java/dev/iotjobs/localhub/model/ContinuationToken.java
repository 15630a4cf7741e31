package dev.iotjobs.localhub.model;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * IoT Hub's paging position, the opaque {@code x-ms-continuation} token of queries and job lists: here the offset of
 * the next row, so that the next page may ask for another page size. A token is present only while rows remain.
 */
public final class ContinuationToken {
    private static final String PREFIX = "o:";

    private ContinuationToken() {
    }

    /** One page of a result: its items, and the token of the next page (null on the last page). */
    public record Page<T>(List<T> items, String continuation) {
    }

    /** The page of {@code all} that starts where {@code token} points (the start when null) with at most {@code pageSize} items. */
    public static <T> Page<T> page(List<T> all, String token, int pageSize) {
        int offset = offset(token);
        int end = (int) Math.min(all.size(), (long) offset + pageSize); // no overflow past the last page
        List<T> items = offset >= all.size() ? List.of() : all.subList(offset, end);
        return new Page<>(items, end < all.size() ? of(end) : null);
    }

    static String of(int offset) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((PREFIX + offset).getBytes(StandardCharsets.UTF_8));
    }

    /** The offset a token points at: 0 for none; 400 (ArgumentInvalid) for a token this hub did not issue. */
    public static int offset(String token) {
        if (token == null || token.isEmpty()) {
            return 0;
        }
        try {
            String text = new String(Base64.getUrlDecoder().decode(token.trim()), StandardCharsets.UTF_8);
            if (text.startsWith(PREFIX)) {
                int offset = Integer.parseInt(text.substring(PREFIX.length()));
                if (offset >= 0) {
                    return offset;
                }
            }
        } catch (IllegalArgumentException ignored) {
            // reported below
        }
        throw ErrorCode.ARGUMENT_INVALID.exception("The continuation token '" + token + "' is invalid.");
    }
}
