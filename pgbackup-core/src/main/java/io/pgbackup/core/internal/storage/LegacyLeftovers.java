package io.pgbackup.core.internal.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.pgbackup.core.internal.storage.Repository.DELETING_PREFIX;
import static io.pgbackup.core.internal.storage.Repository.STAGING_PREFIX;

/** The {@code base/.staging-*} and {@code base/.deleting-*} directories earlier versions left in a local {@code base/}. */
final class LegacyLeftovers {
    private LegacyLeftovers() {
    }

    static List<Repository.LegacyLeftover> list(Path baseDir) throws IOException {
        if (!Files.isDirectory(baseDir)) {
            return List.of();
        }
        List<Repository.LegacyLeftover> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(baseDir)) {
            for (Path dir : entries.sorted().toList()) {
                String name = dir.getFileName().toString();
                if (Files.isDirectory(dir) && (name.startsWith(STAGING_PREFIX) || name.startsWith(DELETING_PREFIX))) {
                    long bytes;
                    try (Stream<Path> all = Files.walk(dir)) {
                        bytes = all.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
                    }
                    found.add(new Repository.LegacyLeftover(dir, name.startsWith(STAGING_PREFIX), bytes,
                            Files.getLastModifiedTime(dir).toInstant()));
                }
            }
        }
        return found;
    }

    /** Removes one of {@link #list}; false if it is gone already; refuses any other directory. */
    static boolean delete(Path baseDir, Path directory) throws IOException {
        Path dir = directory.toAbsolutePath().normalize();
        String name = dir.getFileName().toString();
        if (!dir.getParent().equals(baseDir) || !(name.startsWith(STAGING_PREFIX) || name.startsWith(DELETING_PREFIX))) {
            throw new IllegalArgumentException(dir + " is not a leftover of an earlier version");
        }
        if (!Files.exists(dir)) {
            return false;
        }
        AtomicFiles.deleteTree(dir);
        return true;
    }
}
