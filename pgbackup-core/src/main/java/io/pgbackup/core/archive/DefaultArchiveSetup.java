package io.pgbackup.core.archive;

import io.pgbackup.core.PgBackupContext;

/** The production {@link ArchiveSetup}. */
public final class DefaultArchiveSetup implements ArchiveSetup {
    private final PgBackupContext context;

    public DefaultArchiveSetup(PgBackupContext context) {
        this.context = context;
    }
}
