package io.pgbackup.core.internal.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * One archived WAL file to a path, as a {@code restore_command} needs it ({@code pgbackup wal-fetch},
 * which restore_wal.sh runs for a file it has neither prefetched nor in a local archive). Asks the
 * storage for the file's few possible keys (one per compression suffix), never lists the archive.
 */
public final class WalFetcher {
    private final Repository repository;

    public WalFetcher(Repository repository) {
        this.repository = repository;
    }

    public Repository repository() {
        return repository;
    }

    /** The key holding {@code name}, if archived (one HEAD per suffix, the default compression's first). */
    public Optional<String> find(String name) {
        checkName(name);
        try {
            for (Compression c : Compression.values()) {
                String key = Repository.walKey(name + c.suffix());
                if (repository.storage().stat(key).isPresent()) {
                    return Optional.of(key);
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.locationOf(Repository.WAL_PREFIX), e);
        }
    }

    /**
     * Writes {@code name} decompressed to {@code dest} (through a temporary file beside it, renamed
     * when complete); false when the archive does not hold it.
     */
    public boolean fetch(String name, Path dest) {
        Optional<String> key = find(name);
        if (key.isEmpty()) {
            return false;
        }
        Path tmp = dest.resolveSibling(dest.getFileName() + ".pgbackup-fetch." + ProcessHandle.current().pid());
        try (InputStream in = repository.openDecoded(key.get())) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            renewRestoreMarker(dest);
            return true;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the failure below is what matters
            }
            throw Repository.ioFailure("cannot fetch " + repository.locationOf(key.get()) + " to " + dest, e);
        }
    }

    /** When this process last renewed a restore marker: a fetch-ahead fetches many segments a minute. */
    private static final java.util.concurrent.atomic.AtomicReference<java.time.Instant> lastRenewal =
            new java.util.concurrent.atomic.AtomicReference<>(java.time.Instant.EPOCH);

    /** Replay is running in the cluster {@code dest} belongs to: its restore marker, if any, lives on. */
    private void renewRestoreMarker(Path dest) {
        java.time.Instant now = java.time.Instant.now();
        java.time.Instant previous = lastRenewal.get();
        if (now.isBefore(previous.plusSeconds(60)) || !lastRenewal.compareAndSet(previous, now)) {
            return;
        }
        io.pgbackup.core.internal.restore.RestoreMarkers.renewFrom(repository, dest.toAbsolutePath().getParent(),
                java.time.Clock.systemUTC());
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.contains("/") || name.startsWith(".") || name.chars().anyMatch(Character::isISOControl)) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "'" + name + "' is not a WAL file name");
        }
    }
}
