package io.pgbackup.core.backup;

import io.pgbackup.core.progress.ProgressListener;
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
 * @param listener       receives bytes streamed of the server's estimate ({@link ProgressListener#NONE}: nobody)
 * @param type           full (the default), diff, incr or auto
 */
public record BackupOptions(Optional<Compression> compression, boolean fastCheckpoint, Consumer<String> progress,
                            ProgressListener listener, BackupType type) {
    public BackupOptions {
        compression = compression == null ? Optional.empty() : compression;
        progress = progress == null ? NO_PROGRESS : progress;
        listener = listener == null ? ProgressListener.NONE : listener;
        type = type == null ? BackupType.FULL : type;
    }

    public BackupOptions(Optional<Compression> compression, boolean fastCheckpoint, Consumer<String> progress,
                         ProgressListener listener) {
        this(compression, fastCheckpoint, progress, listener, BackupType.FULL);
    }

    public BackupOptions(Optional<Compression> compression, boolean fastCheckpoint, Consumer<String> progress) {
        this(compression, fastCheckpoint, progress, null);
    }

    private static final Consumer<String> NO_PROGRESS = line -> { };

    /** True when someone listens to progress; pg_basebackup's {@code --progress} costs a size estimate first. */
    public boolean reportsProgress() {
        return progress != NO_PROGRESS || listener != ProgressListener.NONE;
    }

    public static BackupOptions defaults() {
        return new BackupOptions(Optional.empty(), true, null);
    }

    public BackupOptions withCompression(Compression c) {
        return new BackupOptions(Optional.of(c), fastCheckpoint, progress, listener, type);
    }

    public BackupOptions withProgress(Consumer<String> listener) {
        return new BackupOptions(compression, fastCheckpoint, listener, this.listener, type);
    }

    /** Progress as bytes done of the total, e.g. for a progress bar. */
    public BackupOptions withProgressListener(ProgressListener l) {
        return new BackupOptions(compression, fastCheckpoint, progress, l, type);
    }

    public BackupOptions withFastCheckpoint(boolean fast) {
        return new BackupOptions(compression, fast, progress, listener, type);
    }

    /** Full (the default), diff, incr or auto. */
    public BackupOptions withType(BackupType t) {
        return new BackupOptions(compression, fastCheckpoint, progress, listener, t);
    }
}
