package io.pgbackup.core.health;

import java.nio.file.Path;
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
    /** The CLI's command names that notify, and the kind each reports as (archiving: see {@link Health#observe}). */
    private static final Map<String, String> KINDS = Map.of("backup", "backup", "sync", "sync",
            "cleanup", "cleanup", "verify", "verify", "restore", "restore");
    /** Called once per WAL segment or too often to compute a status each time; the archiver writes its own metrics. */
    private static final List<String> NO_METRICS = List.of("wal-fetch", "archiver", "help", "cds-warm-up", "demo", "schedule",
            "check", "metrics");

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
}
