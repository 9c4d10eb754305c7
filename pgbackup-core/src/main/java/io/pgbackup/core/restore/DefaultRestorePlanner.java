package io.pgbackup.core.restore;

import io.pgbackup.core.PgBackupContext;

/** The production {@link RestorePlanner}. */
public final class DefaultRestorePlanner implements RestorePlanner {
    private final PgBackupContext context;

    public DefaultRestorePlanner(PgBackupContext context) {
        this.context = context;
    }
}
