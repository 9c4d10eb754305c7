package io.pgbackup.core.backup;

import io.pgbackup.core.PgBackupContext;

/** The production {@link BackupManager}. */
public final class DefaultBackupManager implements BackupManager {
    private final PgBackupContext context;

    public DefaultBackupManager(PgBackupContext context) {
        this.context = context;
    }
}
