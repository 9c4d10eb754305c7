package io.pgbackup.core.sync;

import io.pgbackup.core.PgBackupContext;

/** The production {@link RemoteSyncer}. */
public final class RsyncRemoteSyncer implements RemoteSyncer {
    private final PgBackupContext context;

    public RsyncRemoteSyncer(PgBackupContext context) {
        this.context = context;
    }
}
