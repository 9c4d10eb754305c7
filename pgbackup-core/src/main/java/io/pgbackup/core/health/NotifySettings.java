package io.pgbackup.core.health;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
