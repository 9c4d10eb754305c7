package io.pgbackup.core.health;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The monitoring settings, read from the same environment as {@code PgBackupConfig}: check
 * thresholds, the notify command, and {@code PG_BACKUP_METRICS_FILE} (a node_exporter textfile
 * rewritten after every command).
 */
public record HealthSettings(CheckThresholds thresholds, NotifySettings notifications, Optional<Path> metricsFile) {
    public static final String PG_BACKUP_METRICS_FILE = "PG_BACKUP_METRICS_FILE";
    /** Every setting of this package, in the order status lists them: registered with config's known names. */
    public static final List<String> NAMES = List.of(CheckThresholds.PG_BACKUP_CHECK_BACKUP_AGE_HOURS,
            CheckThresholds.PG_BACKUP_CHECK_ARCHIVE_LAG_SECONDS, CheckThresholds.PG_BACKUP_CHECK_READY_FILES,
            CheckThresholds.PG_BACKUP_CHECK_VERIFY_AGE_DAYS, CheckThresholds.PG_BACKUP_CHECK_FREE_PERCENT, PG_BACKUP_METRICS_FILE,
            NotifySettings.PG_BACKUP_NOTIFY_COMMAND, NotifySettings.PG_BACKUP_NOTIFY_ON, NotifySettings.PG_BACKUP_NOTIFY_TIMEOUT);
    /** The CLI's command names that notify, and the kind each reports as (archiving: see {@link Health#observe}). */
    private static final Map<String, String> KINDS = Map.of("backup", "backup", "sync", "sync",
            "cleanup", "cleanup", "verify", "verify", "restore", "restore");
    /** Called once per WAL segment or too often to compute a status each time; the archiver writes its own metrics. */
    private static final List<String> NO_METRICS = List.of("wal-fetch", "archiver", "help", "cds-warm-up", "demo", "schedule",
            "check", "metrics", "archive-event");

    public static HealthSettings fromEnvironment(Map<String, String> environment) {
        // The configuration file of PG_BACKUP_CONFIG under the environment, as for every other setting.
        Map<String, String> env = io.pgbackup.core.config.EnvSettings.load(environment, null).asMap();
        String metrics = env.get(PG_BACKUP_METRICS_FILE);
        Optional<Path> file = Optional.empty();
        if (metrics != null && !metrics.isBlank()) {
            Path p = Path.of(metrics.strip());
            if (!p.isAbsolute() || !p.getFileName().toString().endsWith(".prom")) {
                throw new io.pgbackup.core.PgBackupException(io.pgbackup.core.ErrorCode.INVALID_CONFIG, PG_BACKUP_METRICS_FILE
                        + "='" + metrics + "' must be an absolute path ending in .prom (node_exporter's textfile collector reads only those):"
                        + " e.g. /var/lib/node_exporter/textfile_collector/pgbackup.prom");
            }
            file = Optional.of(p);
        }
        return new HealthSettings(CheckThresholds.fromEnvironment(env), NotifySettings.fromEnvironment(env), file);
    }

    /** The event kind {@code command}'s outcome goes to the notify command as, if it goes there. */
    public Optional<String> notifyKind(String command) {
        String kind = command == null ? null : KINDS.get(command);
        return kind != null && notifications.enabled() ? Optional.of(kind) : Optional.empty();
    }

    /** Whether the metrics file is rewritten after {@code command}. */
    public boolean metricsAfter(String command) {
        return metricsFile.isPresent() && command != null && !NO_METRICS.contains(command);
    }

    /** Whether anything is to be done after {@code command}: a notification or the metrics file. */
    public boolean wantsOutcome(String command) {
        return notifyKind(command).isPresent() || metricsAfter(command);
    }

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

    /**
     * {@code PG_BACKUP_NOTIFY_*}: the program that hears about failures, recoveries and (optionally)
     * successes.
     *
     * @param command  the program and its arguments, split like {@code PG_BACKUP_SSH_COMMAND} (spaces,
     *                 single or double quotes) and run without a shell; empty: no notifications
     * @param all      {@code PG_BACKUP_NOTIFY_ON=all}: successes too (default {@code failure}: failures and recoveries)
     * @param timeout  after this the program is killed and the command goes on
     */
    public record NotifySettings(List<String> command, boolean all, Duration timeout) {
        public static final String PG_BACKUP_NOTIFY_COMMAND = "PG_BACKUP_NOTIFY_COMMAND";
        public static final String PG_BACKUP_NOTIFY_ON = "PG_BACKUP_NOTIFY_ON";
        public static final String PG_BACKUP_NOTIFY_TIMEOUT = "PG_BACKUP_NOTIFY_TIMEOUT";
        static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

        public NotifySettings {
            command = List.copyOf(command);
        }

        public boolean enabled() {
            return !command.isEmpty();
        }

        public static NotifySettings fromEnvironment(Map<String, String> env) {
            String raw = Optional.ofNullable(env.get(PG_BACKUP_NOTIFY_COMMAND)).orElse("");
            if (raw.chars().anyMatch(Character::isISOControl)) {
                throw invalid(PG_BACKUP_NOTIFY_COMMAND + " contains a control character (newline, tab): use one line");
            }
            List<String> command = raw.isBlank() ? List.of() : io.pgbackup.core.config.RemoteConfig.words(raw.strip());
            String on = Optional.ofNullable(env.get(PG_BACKUP_NOTIFY_ON)).map(String::strip).orElse("");
            boolean all;
            if (on.isEmpty() || on.equals("failure")) {
                all = false;
            } else if (on.equals("all")) {
                all = true;
            } else {
                throw invalid(PG_BACKUP_NOTIFY_ON + "='" + on + "' is not failure or all: set it to failure (failures and recoveries) or all");
            }
            Duration timeout = DEFAULT_TIMEOUT;
            String t = env.get(PG_BACKUP_NOTIFY_TIMEOUT);
            if (t != null && !t.isBlank()) {
                try {
                    long seconds = Long.parseLong(t.strip());
                    if (seconds < 1 || seconds > 3600) {
                        throw new NumberFormatException();
                    }
                    timeout = Duration.ofSeconds(seconds);
                } catch (NumberFormatException e) {
                    throw invalid(PG_BACKUP_NOTIFY_TIMEOUT + "='" + t + "' is not a number of seconds from 1 to 3600: set it to e.g. 10");
                }
            }
            return new NotifySettings(command, all, timeout);
        }

        private static PgBackupException invalid(String message) {
            return new PgBackupException(ErrorCode.INVALID_CONFIG, message);
        }
    }
}
