package io.pgbackup.core.retention;

import io.pgbackup.core.PgBackupContext;

/** The production {@link RetentionPolicy}. */
public final class DefaultRetentionPolicy implements RetentionPolicy {
    private final PgBackupContext context;

    public DefaultRetentionPolicy(PgBackupContext context) {
        this.context = context;
    }
}
