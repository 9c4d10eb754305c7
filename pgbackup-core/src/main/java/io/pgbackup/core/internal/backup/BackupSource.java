package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;

import java.util.List;

/** Takes a base backup from the server and streams it into an {@link ArchiveSink}. */
interface BackupSource {
    /** Streams the backup; throws a one-line {@link io.pgbackup.core.PgBackupException} on failure. */
    Taken take(BackupRun run, ArchiveSink sink);

    /** What the server said: the WAL range the backup needs, and its tablespaces. */
    record Taken(int timeline, long startLsn, long stopLsn, List<BackupManifest.Tablespace> tablespaces) {
        public Taken {
            tablespaces = List.copyOf(tablespaces);
        }
    }
}
