package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.health.Health;
import io.pgbackup.core.health.HealthSettings;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What happens after every command and snapshot: the outcome goes to the notify command (backup,
 * archive, sync, cleanup, verify, restore) and the metrics file is rewritten. Never fails the
 * command: a problem here becomes a warning line.
 */
public final class CommandOutcomes {
    private CommandOutcomes() {
    }

    /**
     * What every snapshot feeds: the metrics file (when configured) and the archiving state to the
     * notify command (an event when archiving starts failing and when it recovers). The sync
     * archive_wal.sh runs Java only when its outcome changes ({@link #archiveScriptEvent}); check,
     * metrics and the commands' snapshots see its failures too; the async archiver calls this after its batches.
     */
    public static List<String> observe(DefaultHealth health, Health.Snapshot snapshot, HealthSettings settings) {
        List<String> warnings = new ArrayList<>();
        if (settings.notifications().enabled()) {
            List<CheckReport.Finding> archiving = snapshot.check().findings().stream()
                    .filter(f -> f.key().equals("archiving") || f.key().equals("archiver"))
                    .filter(f -> f.state() == CheckReport.State.CRITICAL).toList();
            boolean clusterSeen = snapshot.status().cluster() != null && snapshot.status().cluster().reachable();
            // Unreachable, the cluster says nothing about archiving: no recovery claimed from silence.
            if (clusterSeen || !archiving.isEmpty()) {
                String message = archiving.isEmpty() ? "archiving works again" : archiving.get(0).message();
                health.notifier(settings.notifications()).transition("archive", archiving.isEmpty(), message, health.location(),
                        health.systemIdentifier().orElse(null)).ifPresent(warnings::add);
            }
        }
        if (settings.metricsFile().isPresent()) {
            publish(snapshot, settings).ifPresent(warnings::add);
        }
        return warnings;
    }

    /**
     * What archive_wal.sh reports when its outcome changes (sync mode, where no Java runs per
     * segment): the notify command hears of the failure or the recovery (once per change, as
     * {@link Notifier#transition} judges it) and the metrics file is rewritten. The message is the
     * script's, not the snapshot's: PostgreSQL counts the failure only once the script has returned.
     */
    public static List<String> archiveScriptEvent(DefaultHealth health, HealthSettings settings, boolean ok, String message) {
        List<String> warnings = new ArrayList<>();
        if (settings.notifications().enabled()) {
            health.notifier(settings.notifications()).transition("archive", ok, message, health.location(),
                    health.systemIdentifier().orElse(null)).ifPresent(warnings::add);
        }
        if (settings.metricsFile().isPresent()) {
            try {
                publish(health.snapshot(settings.thresholds()), settings).ifPresent(warnings::add);
            } catch (RuntimeException e) {
                warnings.add("could not compute the metrics for " + HealthSettings.PG_BACKUP_METRICS_FILE + ": " + e.getMessage());
            }
        }
        return warnings;
    }

    /** Writes a snapshot already taken (by check or metrics) to the metrics file; the one-line problem if it could not. */
    public static Optional<String> publish(Health.Snapshot snapshot, HealthSettings settings) {
        try {
            DefaultHealth.writeMetricsFile(settings.metricsFile().orElseThrow(), snapshot.metricsText());
            return Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.of("could not write " + HealthSettings.PG_BACKUP_METRICS_FILE + " " + settings.metricsFile().get()
                    + ": " + e.getMessage());
        }
    }

    /** Rewrites the metrics file; the one-line problem if it could not. */
    public static Optional<String> writeMetrics(DefaultHealth health, HealthSettings settings) {
        try {
            health.writeMetricsFile(settings.metricsFile().orElseThrow(), settings.thresholds());
            return Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.of("could not write " + HealthSettings.PG_BACKUP_METRICS_FILE + " " + settings.metricsFile().get()
                    + ": " + e.getMessage());
        }
    }
}
