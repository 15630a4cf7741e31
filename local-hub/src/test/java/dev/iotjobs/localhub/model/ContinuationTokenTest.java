package dev.iotjobs.localhub.model;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The paging position of queries and job lists: pages follow each other, the last has no token, bad tokens are 400. */
class ContinuationTokenTest {
    private static final List<Integer> ROWS = IntStream.range(0, 5).boxed().toList();

    @Test
    void pagesFollowEachOther_andTheLastHasNoToken() {
        ContinuationToken.Page<Integer> first = ContinuationToken.page(ROWS, null, 2);
        assertEquals(List.of(0, 1), first.items());
        ContinuationToken.Page<Integer> second = ContinuationToken.page(ROWS, first.continuation(), 3); // another size
        assertEquals(List.of(2, 3, 4), second.items());
        assertNull(second.continuation());
        assertEquals(List.of(), ContinuationToken.page(List.of(), null, 2).items());
    }

    @Test
    void aTokenPastTheEndGivesAnEmptyLastPage() {
        ContinuationToken.Page<Integer> page = ContinuationToken.page(ROWS, token("o:" + Integer.MAX_VALUE), 100);
        assertEquals(List.of(), page.items());
        assertNull(page.continuation());
    }

    @Test
    void tokensThisHubDidNotIssueAre400004() {
        for (String bad : new String[]{"not base64!", token("o:-5"), token("o:99999999999"), token("x:3"), token("o:")}) {
            HubException e = assertThrows(HubException.class, () -> ContinuationToken.page(ROWS, bad, 2), bad);
            assertEquals(400004, e.errorCode().code(), bad);
        }
    }

    private static String token(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }
}
