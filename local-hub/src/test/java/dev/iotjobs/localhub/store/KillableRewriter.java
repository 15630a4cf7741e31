package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.store.HubStore.Bucket;
import dev.iotjobs.localhub.store.HubStore.Write;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Child process of {@link MvHubStoreCrashIT#rewritesAndHousekeepingSurviveKill9}: rewrites the same
 * {@link #KEYS} documents round after round (as twin jobs do), in batches, printing {@code ROUND <n>} once a
 * whole round is acknowledged; after every other round (which rewrote half of them) it pauses ({@code IDLE})
 * so that the store's housekeeping compacts the file, until it is killed.
 */
public final class KillableRewriter {
    static final int KEYS = 6_000;
    private static final int BATCH = 500;

    public static void main(String[] args) throws Exception {
        MvHubStore store = MvHubStore.open(DataDirectory.storeFile(Path.of(args[0])));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println("OPEN");
        for (int round = 0; ; round++) {
            for (int i = 0; i < KEYS; i += BATCH) {
                List<Write> batch = new ArrayList<>(BATCH);
                for (int k = i; k < i + BATCH; k++) {
                    if (writes(round, k)) {
                        batch.add(new Write(Bucket.DEVICES, key(k), document(k, round)));
                    }
                }
                store.putAll(batch);
            }
            out.println("ROUND " + round);
            if (round % 2 == 1) {
                out.println("IDLE");
                Thread.sleep(900);
            }
        }
    }

    /**
     * Even rounds rewrite every document, odd rounds only the even ones: that leaves chunks half dead, which
     * the housekeeping compacts in the pause after the odd round.
     */
    static boolean writes(int round, int k) {
        return round % 2 == 0 || k % 2 == 0;
    }

    /** The last round up to {@code round} that wrote document {@code k}. */
    static int lastWrite(int round, int k) {
        return writes(round, k) ? round : round - 1;
    }

    static String key(int k) {
        return "device-" + k;
    }

    /** About 600 bytes, naming its key and round: {@code {"k":"device-7","round":12,"pad":"..."}}. */
    static byte[] document(int k, int round) {
        StringBuilder s = new StringBuilder("{\"k\":\"").append(key(k)).append("\",\"round\":").append(round).append(",\"pad\":\"");
        while (s.length() < 590) {
            s.append((char) ('a' + (s.length() + k + round) % 26));
        }
        return s.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The round a stored document was written in. */
    static int roundOf(byte[] document) {
        String s = new String(document, StandardCharsets.UTF_8);
        int at = s.indexOf("\"round\":") + 8;
        return Integer.parseInt(s.substring(at, s.indexOf(',', at)));
    }
}
