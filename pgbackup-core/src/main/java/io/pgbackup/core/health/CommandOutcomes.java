package io.pgbackup.core.health;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What happens after every command: its outcome goes to the notify command (backup, archive,
 * sync, cleanup, verify, restore) and the metrics file is rewritten. Never fails the command: a
 * problem here becomes a warning line.
 */
public final class CommandOutcomes {
    /** The CLI's command names that notify, and the kind each reports as (archiving: see {@link #observe}). */
    private static final Map<String, String> KINDS = Map.of("backup", "backup", "sync", "sync",
            "cleanup", "cleanup", "verify", "verify", "restore", "restore");
    /** Called once per WAL segment or too often to compute a status each time; the archiver writes its own metrics. */
    private static final List<String> NO_METRICS = List.of("wal-fetch", "archiver", "help", "cds-warm-up", "demo", "schedule",
            "check", "metrics", "archive-event");

    private CommandOutcomes() {
    }

    /** @return warnings to print (one line each), empty when all went well or nothing is configured */
    public static List<String> afterCommand(Map<String, String> env, String command, boolean ok, String message) {
        List<String> warnings = new ArrayList<>();
        HealthSettings settings;
        try {
            settings = HealthSettings.fromEnvironment(env);
        } catch (RuntimeException e) {
            return ok ? List.of(e.getMessage()) : List.of();
        }
        String kind = command == null ? null : KINDS.get(command);
        boolean notify = kind != null && settings.notifications().enabled();
        boolean metrics = settings.metricsFile().isPresent() && command != null && !NO_METRICS.contains(command);
        if (!notify && !metrics) {
            return warnings;
        }
        PgBackup pg;
        try {
            pg = PgBackup.create(PgBackupConfig.fromEnvironment(env));
        } catch (RuntimeException e) {
            return warnings;
        }
        Health health = pg.health();
        if (notify) {
            String text = ok ? command + " succeeded" : message;
            health.notifier(settings.notifications()).outcome(kind, ok, text, health.location(), health.systemIdentifier().orElse(null))
                    .ifPresent(warnings::add);
        }
        if (metrics) {
            try {
                warnings.addAll(observe(health, health.snapshot(settings.thresholds()), settings));
            } catch (RuntimeException e) {
                warnings.add("could not compute the metrics for " + HealthSettings.PG_BACKUP_METRICS_FILE + ": " + e.getMessage());
            }
        }
        return warnings;
    }

    /**
     * What every snapshot feeds: the metrics file (when configured) and the archiving state to the
     * notify command (an event when archiving starts failing and when it recovers). The sync
     * archive_wal.sh runs Java only when its outcome changes ({@link #archiveScriptEvent}); check,
     * metrics and the commands' snapshots see its failures too; the async archiver calls this after its batches.
     */
    public static List<String> observe(Health health, Health.Snapshot snapshot, HealthSettings settings) {
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
    public static List<String> archiveScriptEvent(Health health, HealthSettings settings, boolean ok, String message) {
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
            Health.writeMetricsFile(settings.metricsFile().orElseThrow(), snapshot.metricsText());
            return Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.of("could not write " + HealthSettings.PG_BACKUP_METRICS_FILE + " " + settings.metricsFile().get()
                    + ": " + e.getMessage());
        }
    }

    /** Rewrites the metrics file; the one-line problem if it could not. */
    public static Optional<String> writeMetrics(Health health, HealthSettings settings) {
        try {
            health.writeMetricsFile(settings.metricsFile().orElseThrow(), settings.thresholds());
            return Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.of("could not write " + HealthSettings.PG_BACKUP_METRICS_FILE + " " + settings.metricsFile().get()
                    + ": " + e.getMessage());
        }
    }
}
