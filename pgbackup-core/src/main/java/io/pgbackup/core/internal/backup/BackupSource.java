package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;

import java.util.List;

/** Takes a base backup from the server and streams it into an {@link ArchiveSink}. */
interface BackupSource {
    /** Streams the backup; throws a one-line {@link io.pgbackup.core.PgBackupException} on failure. */
    Taken take(BackupRun run, ArchiveSink sink);

    /** What the server said: the WAL range the backup needs, its tablespaces, and whether it was a standby. */
    record Taken(int timeline, long startLsn, long stopLsn, List<BackupManifest.Tablespace> tablespaces,
                 boolean fromStandby) {
        public Taken {
            tablespaces = List.copyOf(tablespaces);
        }

        Taken(int timeline, long startLsn, long stopLsn, List<BackupManifest.Tablespace> tablespaces) {
            this(timeline, startLsn, stopLsn, tablespaces, false);
        }
    }
}
