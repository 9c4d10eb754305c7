package io.pgbackup.core.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.Locale;

/** What PostgreSQL does on reaching the target: {@code recovery_target_action}. */
public enum TargetAction {
    PROMOTE, PAUSE, SHUTDOWN;

    public String setting() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TargetAction parse(String text) {
        for (TargetAction a : values()) {
            if (a.setting().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return a;
            }
        }
        throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--target-action '" + text
                + "' is not known: use promote, pause or shutdown");
    }
}
