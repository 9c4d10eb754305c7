package io.pgbackup.core.status;

import io.pgbackup.core.PgBackupContext;

/** The production {@link StatusReporter}. */
public final class DefaultStatusReporter implements StatusReporter {
    private final PgBackupContext context;

    public DefaultStatusReporter(PgBackupContext context) {
        this.context = context;
    }
}
