package io.pgbackup.core.health;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.time.Duration;
import java.util.Map;

/**
 * When {@code pgbackup check} warns and when it goes critical. Each setting is the warning
 * threshold; the critical one is derived (twice the age, twice the backlog, half the free space)
 * so one variable per concern is enough.
 *
 * @param backupAge      newest backup older than this: WARNING; twice this: CRITICAL
 * @param archiveLag     newest archived WAL older than this while the archiver has a backlog, or
 *                       the archiver stuck on an error this long: CRITICAL (sooner: WARNING)
 * @param readyFiles     {@code .ready} files waiting in pg_wal beyond this: WARNING; twice this: CRITICAL
 * @param verifyAge      no verify of the newest backups within this: WARNING (none ever: WARNING too)
 * @param freePercent    less free space than this on the repository's filesystem: WARNING; half of it: CRITICAL
 */
public record CheckThresholds(Duration backupAge, Duration archiveLag, int readyFiles, Duration verifyAge,
                              double freePercent) {
    public static final String PG_BACKUP_CHECK_BACKUP_AGE_HOURS = "PG_BACKUP_CHECK_BACKUP_AGE_HOURS";
    public static final String PG_BACKUP_CHECK_ARCHIVE_LAG_SECONDS = "PG_BACKUP_CHECK_ARCHIVE_LAG_SECONDS";
    public static final String PG_BACKUP_CHECK_READY_FILES = "PG_BACKUP_CHECK_READY_FILES";
    public static final String PG_BACKUP_CHECK_VERIFY_AGE_DAYS = "PG_BACKUP_CHECK_VERIFY_AGE_DAYS";
    public static final String PG_BACKUP_CHECK_FREE_PERCENT = "PG_BACKUP_CHECK_FREE_PERCENT";

    /** A daily backup that missed one run (26 h, as status), 10 min of archive lag, 16 ready files, a weekly verify, 10% free. */
    public static CheckThresholds defaults() {
        return new CheckThresholds(Duration.ofHours(26), Duration.ofMinutes(10), 16, Duration.ofDays(8), 10);
    }

    public CheckThresholds {
        if (backupAge.isNegative() || backupAge.isZero() || archiveLag.isNegative() || archiveLag.isZero()
                || verifyAge.isNegative() || verifyAge.isZero() || readyFiles < 1 || freePercent < 0 || freePercent >= 100) {
            throw new IllegalArgumentException("thresholds must be positive (free percent below 100)");
        }
    }

    /** The {@code PG_BACKUP_CHECK_*} variables of {@code env}; unset ones keep {@link #defaults()}. */
    public static CheckThresholds fromEnvironment(Map<String, String> env) {
        CheckThresholds d = defaults();
        return new CheckThresholds(
                Duration.ofHours(positive(env, PG_BACKUP_CHECK_BACKUP_AGE_HOURS, d.backupAge.toHours(), Long.MAX_VALUE / 3600)),
                Duration.ofSeconds(positive(env, PG_BACKUP_CHECK_ARCHIVE_LAG_SECONDS, d.archiveLag.toSeconds(), Long.MAX_VALUE / 1000)),
                (int) positive(env, PG_BACKUP_CHECK_READY_FILES, d.readyFiles, Integer.MAX_VALUE / 2),
                Duration.ofDays(positive(env, PG_BACKUP_CHECK_VERIFY_AGE_DAYS, d.verifyAge.toDays(), Long.MAX_VALUE / 86400)),
                positive(env, PG_BACKUP_CHECK_FREE_PERCENT, (long) d.freePercent, 99));
    }

    private static long positive(Map<String, String> env, String variable, long fallback, long max) {
        String raw = env.get(variable);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            long value = Long.parseLong(raw.trim());
            if (value >= 1 && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below, with the fix
        }
        throw new PgBackupException(ErrorCode.INVALID_CONFIG, variable + "='" + raw + "' is not a whole number from 1 to "
                + max + ": set it to e.g. " + fallback + " or unset it");
    }
}
