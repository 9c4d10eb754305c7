package io.pgbackup.core.backup;

import io.pgbackup.core.storage.Compression;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * How to take one backup.
 *
 * @param compression    empty: the configured default ({@code PG_BACKUP_COMPRESS}, else gzip)
 * @param fastCheckpoint true: ask for an immediate checkpoint (starts at once, costs an I/O burst);
 *                       false: a spread checkpoint, gentler on a busy server
 * @param progress       receives progress lines (pg_basebackup's), e.g. for a terminal
 */
public record BackupOptions(Optional<Compression> compression, boolean fastCheckpoint, Consumer<String> progress) {
    public BackupOptions {
        compression = compression == null ? Optional.empty() : compression;
        progress = progress == null ? NO_PROGRESS : progress;
    }

    private static final Consumer<String> NO_PROGRESS = line -> { };

    /** True when someone listens to progress; pg_basebackup's {@code --progress} costs a size estimate first. */
    public boolean reportsProgress() {
        return progress != NO_PROGRESS;
    }

    public static BackupOptions defaults() {
        return new BackupOptions(Optional.empty(), true, null);
    }

    public BackupOptions withCompression(Compression c) {
        return new BackupOptions(Optional.of(c), fastCheckpoint, progress);
    }

    public BackupOptions withProgress(Consumer<String> listener) {
        return new BackupOptions(compression, fastCheckpoint, listener);
    }

    public BackupOptions withFastCheckpoint(boolean fast) {
        return new BackupOptions(compression, fast, progress);
    }
}
