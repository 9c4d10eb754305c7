package io.pgbackup.core.internal.sync;

import io.pgbackup.core.sync.RemoteSyncer.SyncResult;

import io.pgbackup.core.sync.RemoteSyncer;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.backup.BackupOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The spec's inline base-backup sync: after a successful backup, copy its directory to the remote.
 * A failed copy never fails the backup: it becomes a warning on the returned {@link BackupInfo}
 * (and in the log); {@code pgbackup sync} copies it later. The copy runs after the backup has
 * released the repository lock, so a slow remote never holds up other commands.
 */
public final class InlineSyncBackupManager implements BackupManager {
    private static final Logger log = LoggerFactory.getLogger(InlineSyncBackupManager.class);

    private final BackupManager delegate;
    private final RemoteSyncer syncer;

    public InlineSyncBackupManager(BackupManager delegate, RemoteSyncer syncer) {
        this.delegate = delegate;
        this.syncer = syncer;
    }

    @Override
    public BackupInfo backup(BackupOptions options) {
        BackupInfo backup = delegate.backup(options);
        try {
            SyncResult copied = syncer.syncBackup(backup);
            log.info("backup {} copied to {}: {} file(s), {} bytes", backup.id(), copied.target(),
                    copied.filesTransferred(), copied.bytesTransferred());
            return backup;
        } catch (RuntimeException e) {
            String why = e instanceof PgBackupException ? e.getMessage() : e.toString();
            String warning = "remote copy failed, the backup is kept locally and 'pgbackup sync' will copy it: " + why;
            log.warn("backup {}: {}", backup.id(), warning);
            return backup.withWarning(warning);
        }
    }

    @Override
    public List<BackupInfo> list() {
        return delegate.list();
    }

    @Override
    public io.pgbackup.core.backup.BackupScan scan() {
        return delegate.scan();
    }

    @Override
    public BackupInfo get(String id) {
        return delegate.get(id);
    }
}
