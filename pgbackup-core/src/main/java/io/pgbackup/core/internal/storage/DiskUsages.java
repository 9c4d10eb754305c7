package io.pgbackup.core.internal.storage;

import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@link Repository#diskUsage(long)}: bytes stored, and the local filesystem's free and total bytes. */
final class DiskUsages {
    private DiskUsages() {
    }

    static Repository.DiskUsage of(Path root, Storage storage, long walArchiveBytes) {
        long used;
        try {
            if (walArchiveBytes < 0) {
                used = storage.list("").stream().mapToLong(Storage.StoredObject::size).sum();
            } else {
                List<String> others = storage instanceof LocalStorage
                        ? List.of(Repository.BASE_PREFIX, "scripts/", "logs/") : List.of(Repository.BASE_PREFIX);
                used = walArchiveBytes;
                for (String prefix : others) {
                    used += storage.list(prefix).stream().mapToLong(Storage.StoredObject::size).sum();
                }
            }
        } catch (IOException | RuntimeException e) {
            used = -1;
        }
        Path existing = root;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        try {
            java.nio.file.FileStore store = Files.getFileStore(existing == null ? Path.of("/") : existing);
            return new Repository.DiskUsage(used, store.getUsableSpace(), store.getTotalSpace());
        } catch (IOException e) {
            return new Repository.DiskUsage(used, -1, -1);
        }
    }
}
