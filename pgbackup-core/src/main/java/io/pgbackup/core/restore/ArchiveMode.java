package io.pgbackup.core.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.Locale;

/**
 * Whether a restored copy archives WAL (pgBackRest's {@code --archive-mode}). A copy restored
 * beside the production cluster (a test restore) that kept the backup's {@code archive_mode} and
 * {@code archive_command} would promote and archive its new timeline into the production
 * repository; so a restore anywhere but PGDATA writes {@code archive_mode = off} unless told to
 * {@link #PRESERVE} it.
 */
public enum ArchiveMode {
    /** {@code archive_mode = off} in the copy's postgresql.auto.conf. */
    OFF,
    /** The backup's archiving settings, as they were. */
    PRESERVE;

    public String setting() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ArchiveMode parse(String text) {
        for (ArchiveMode m : values()) {
            if (m.setting().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--archive-mode '" + text
                + "' is not known: use off (the copy does not archive) or preserve (it archives as the backed-up cluster did)");
    }
}
