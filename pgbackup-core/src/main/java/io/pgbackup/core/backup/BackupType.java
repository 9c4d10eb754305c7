package io.pgbackup.core.backup;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.Locale;

/**
 * What {@code backup --type} asks for: a full copy, the changes since the newest full ({@code diff}),
 * the changes since the newest backup of the chain ({@code incr}), or {@code auto}: a full when the
 * newest full is older than {@code PG_BACKUP_FULL_INTERVAL_DAYS} or the chain is
 * {@code PG_BACKUP_MAX_CHAIN} long, else an incr.
 */
public enum BackupType {
    FULL, DIFF, INCR, AUTO;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code full}, {@code diff}, {@code incr} or {@code auto}; anything else is a usage error naming {@code what}. */
    public static BackupType parse(String what, String text) {
        for (BackupType t : values()) {
            if (t.cliName().equals(text == null ? "" : text.trim().toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, what + " must be full, diff, incr or auto, not '" + text + "'");
    }
}
