package io.pgbackup.core.health;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The monitoring settings, read from the same environment as {@code PgBackupConfig}: check
 * thresholds, the notify command, and {@code PG_BACKUP_METRICS_FILE} (a node_exporter textfile
 * rewritten after every command).
 */
public record HealthSettings(CheckThresholds thresholds, NotifySettings notifications, Optional<Path> metricsFile) {
    public static final String PG_BACKUP_METRICS_FILE = "PG_BACKUP_METRICS_FILE";

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
}
