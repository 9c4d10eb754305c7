package io.pgbackup.cli;

import io.pgbackup.core.health.Health;
import io.pgbackup.core.health.HealthSettings;
import picocli.CommandLine.Command;

@Command(name = "metrics", mixinStandardHelpOptions = true, description = {"Print backup, archiving and verification metrics in the Prometheus text format.",
        "With PG_BACKUP_METRICS_FILE set, every command rewrites that file (for node_exporter's textfile collector)."})
final class MetricsCommand extends BaseCommand {
    @Override
    protected int execute() {
        HealthSettings settings = HealthSettings.fromEnvironment(settings().asMap());
        Health health = pgBackup().health();
        Health.Snapshot snapshot = health.snapshot(settings.thresholds());
        out().print(snapshot.metricsText());
        health.observe(snapshot, settings).forEach(w -> err().println("pgbackup: warning: " + w));
        return 0;
    }
}
