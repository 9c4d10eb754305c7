package io.pgbackup.core.sync;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.progress.ProgressListener;

import java.time.Duration;
import java.util.List;

/**
 * Copies the repository offsite: to an S3 bucket ({@code PG_BACKUP_S3_*}) and/or with rsync over
 * SSH ({@code PG_BACKUP_REMOTE_*}). Copies only ever add or update files there: nothing is
 * deleted by a sync, so the offsite copy keeps history that local retention has removed.
 */
public interface RemoteSyncer {
    /**
     * {@code pgbackup sync}: {@code wal_archive/} first, then every backup in {@code base/}, each
     * backup's manifest last so that a backup only looks complete on the remote once it is.
     * Hidden entries (staging and deleting directories, temporary files, the lock) are never copied.
     *
     * @param dryRun list what would be copied ({@code rsync -n}) and change nothing, remote included
     * @throws io.pgbackup.core.PgBackupException {@code INVALID_CONFIG} without a remote host,
     *         {@code EXTERNAL_TOOL_FAILED} naming the host and the cause when the copy fails
     */
    SyncResult sync(boolean dryRun);

    /**
     * Only the WAL archive ({@code sync --wal-only}, which the archive script starts in the
     * background). Implementations that cannot copy it alone copy everything.
     */
    default SyncResult syncWal(boolean dryRun) {
        return sync(dryRun);
    }

    /**
     * {@link #sync(boolean)}, telling {@code progress} the bytes copied (phase {@code sync}) of the
     * total where the target knows it up front ({@code -1} otherwise); implementations without it ignore it.
     */
    default SyncResult sync(boolean dryRun, ProgressListener progress) {
        return sync(dryRun);
    }

    /** {@link #syncWal(boolean)} with progress as {@link #sync(boolean, ProgressListener)} tells it. */
    default SyncResult syncWal(boolean dryRun, ProgressListener progress) {
        return syncWal(dryRun);
    }

    /** Copies one backup directory (its manifest last): the inline sync after {@code backup}. */
    SyncResult syncBackup(BackupInfo backup);

    /**
     * What a sync copied (or, in a dry run, would copy).
     *
     * @param target           {@code user@host:dir}
     * @param files            repository-relative paths copied, in order
     * @param bytesTransferred total size of those files (rsync's delta transfer may send fewer bytes over the wire)
     */
    record SyncResult(String target, boolean dryRun, List<String> files, long bytesTransferred, Duration duration) {
        public SyncResult {
            files = List.copyOf(files);
        }

        @com.fasterxml.jackson.annotation.JsonProperty("filesTransferred")
        public int filesTransferred() {
            return files.size();
        }
    }
}
