package dev.iotjobs.localhub.store;

import dev.iotjobs.localhub.LocalHub;
import dev.iotjobs.localhub.config.DataDirectory;
import dev.iotjobs.localhub.config.HubConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A store says which layout it holds; a hub refuses another layout with a way out, never misreads it. */
class StoreFormatTest {

    @Test
    void aNewStoreIsMarked_andOpensAgain() {
        MemoryHubStore store = new MemoryHubStore();
        StoreFormat.check(store, "memory");
        assertArrayEquals("1".getBytes(StandardCharsets.US_ASCII), store.get(HubStore.Bucket.META, "store-format"));
        StoreFormat.check(store, "memory");
    }

    @Test
    void aHub_refusesADataDirectoryOfAnotherLayout_withAWayOut(@TempDir Path dir) {
        try (MvHubStore store = MvHubStore.open(DataDirectory.storeFile(dir))) {
            store.put(HubStore.Bucket.META, "store-format", "2".getBytes(StandardCharsets.US_ASCII));
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LocalHub.start(HubConfig.builder()
                .dataDirectory(dir).mqttPort(0).restPort(0).proxyPort(0).build()));
        assertTrue(e.getMessage().contains("store format 2") && e.getMessage().contains("--data elsewhere"),
                e.getMessage());
        // The refused store was closed: the directory can be opened again (e.g. to be migrated).
        MvHubStore.open(DataDirectory.storeFile(dir)).close();
    }
}
