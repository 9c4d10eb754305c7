package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;

/**
 * When {@code --type auto} takes a full: the newest full is {@code PG_BACKUP_FULL_INTERVAL_DAYS}
 * (default 7) days old, or the chain is {@code PG_BACKUP_MAX_CHAIN} (default 7) backups long.
 */
public record ChainSettings(int fullIntervalDays, int maxChain) {
    public static final String PG_BACKUP_FULL_INTERVAL_DAYS = "PG_BACKUP_FULL_INTERVAL_DAYS";
    public static final String PG_BACKUP_MAX_CHAIN = "PG_BACKUP_MAX_CHAIN";

    public ChainSettings {
        if (fullIntervalDays < 0 || fullIntervalDays > 3650) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, PG_BACKUP_FULL_INTERVAL_DAYS + " must be 0 to 3650 days, not "
                    + fullIntervalDays);
        }
        if (maxChain < 1 || maxChain > 1000) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, PG_BACKUP_MAX_CHAIN + " must be 1 to 1000, not " + maxChain);
        }
    }

    public static ChainSettings of(PgBackupConfig config) {
        return new ChainSettings(config.settings().integer(PG_BACKUP_FULL_INTERVAL_DAYS, 7),
                config.settings().integer(PG_BACKUP_MAX_CHAIN, 7));
    }
}
