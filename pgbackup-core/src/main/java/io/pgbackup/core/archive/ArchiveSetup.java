package io.pgbackup.core.archive;

/**
 * Sets up a repository for continuous archiving (the {@code init} command): the directory layout,
 * the archive and restore scripts, and a check of the live cluster's settings.
 */
public interface ArchiveSetup {
    /**
     * Creates {@code PG_BACKUP_DIR}'s layout (owner-only), installs or refreshes
     * {@code scripts/archive_wal.sh} and {@code scripts/restore_wal.sh}, and compares the cluster's
     * archiving settings with what they should be. Idempotent: a re-run with the same configuration
     * changes nothing; a re-run after a configuration change rewrites the scripts.
     *
     * <p>A cluster that cannot be reached, or that is not configured ({@code PG_USER_NAME} unset),
     * is reported in {@link InitResult#cluster()}, not thrown.
     *
     * @throws io.pgbackup.core.PgBackupException {@code INVALID_CONFIG} when {@code PG_BACKUP_DIR} is
     *         unset or unusable, {@code IO_FAILED} when the layout or a script cannot be written
     */
    InitResult init();

    /** The {@code archive_command} value for this repository: {@code <dir>/scripts/archive_wal.sh %p %f}. */
    String archiveCommand();

    /** The {@code restore_command} value for this repository: {@code <dir>/scripts/restore_wal.sh %f %p}. */
    String restoreCommand();
}
