package io.pgbackup.core.verify;

import io.pgbackup.core.PgBackupContext;

/** The production {@link Verifier}. */
public final class DefaultVerifier implements Verifier {
    private final PgBackupContext context;

    public DefaultVerifier(PgBackupContext context) {
        this.context = context;
    }
}
