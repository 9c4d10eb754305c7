package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.HealthSettings.NotifySettings;
import io.pgbackup.core.health.HealthSettings.CheckThresholds;
import io.pgbackup.core.health.Health;
import io.pgbackup.core.health.HealthSettings;
import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManager;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.status.StatusReporter;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code check}, {@code metrics} and notifications: one status snapshot judged against thresholds
 * and rendered as Prometheus metrics. Reads the cluster and the repository; writes only the
 * metrics file and the notifier's outcome records.
 */
public final class DefaultHealth implements Health {
    private static final Pattern SYSTEM_ID = Pattern.compile("\"systemIdentifier\"\\s*:\\s*\"(\\d+)\"");

    private final StatusReporter status;
    private final BackupManager backups;
    private final Clock clock;
    private final Storage outcomes;
    private final Storage storage;
    private final String location;

    /**
     * @param outcomes where the notifier keeps its last outcomes ({@code health/}): the repository's
     *                 storage; null when there is no repository (a notification never creates one)
     */
    public DefaultHealth(StatusReporter status, BackupManager backups, Clock clock, Storage outcomes, Storage storage, String location) {
        this.status = status;
        this.backups = backups;
        this.clock = clock;
        this.outcomes = outcomes;
        this.storage = storage;
        this.location = location;
    }

    @Override
    public Snapshot snapshot(CheckThresholds thresholds) {
        Instant now = clock.instant();
        StatusReport report = status.report();
        List<BackupInfo> all;
        try {
            all = backups.scan().backups();
        } catch (PgBackupException e) {
            all = List.of();
        }
        BackupManifest newest = all.isEmpty() ? null : all.get(all.size() - 1).manifest();
        BackupManifest oldest = all.isEmpty() ? null : all.get(0).manifest();
        CheckReport check = HealthCheck.evaluate(report, thresholds, oldest == null ? null : oldest.startTime(), now);
        return new Snapshot(report, check, HealthMetrics.snapshot(report, check, newest, oldest, now));
    }

    @Override
    public CheckReport check(CheckThresholds thresholds) {
        try {
            return snapshot(thresholds).check();
        } catch (RuntimeException e) {
            return CheckReport.unknown("the check could not run: " + e.getMessage());
        }
    }

    /** 0644: metrics hold no secret and node_exporter often runs as another user. */
    @Override
    public void writeMetricsFile(Path file, CheckThresholds thresholds) throws IOException {
        writeMetricsFile(file, snapshot(thresholds).metricsText());
    }

    public static void writeMetricsFile(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent().toRealPath();
        AtomicFiles.write(dir.resolve(file.getFileName()), text.getBytes(StandardCharsets.UTF_8),
                PosixFilePermissions.fromString("rw-r--r--"));
    }

    /** A notifier keeping its outcome records in the repository's {@code health/} directory. */
    public Notifier notifier(NotifySettings settings) {
        return new Notifier(settings, outcomes, clock);
    }

    @Override
    public String location() {
        return location;
    }

    @Override
    public Optional<String> systemIdentifier() {
        try {
            if (storage.stat("cluster.json").isEmpty()) {
                return Optional.empty();
            }
            Matcher m = SYSTEM_ID.matcher(new String(storage.read("cluster.json"), StandardCharsets.UTF_8));
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<String> observe(Snapshot snapshot, HealthSettings settings) {
        return CommandOutcomes.observe(this, snapshot, settings);
    }

    @Override
    public List<String> archiveScriptEvent(boolean ok, String message, HealthSettings settings) {
        return CommandOutcomes.archiveScriptEvent(this, settings, ok, message);
    }

    @Override
    public List<String> afterCommand(String command, boolean ok, String message, HealthSettings settings) {
        List<String> warnings = new ArrayList<>();
        Optional<String> kind = settings.notifyKind(command);
        if (kind.isPresent()) {
            String text = ok ? command + " succeeded" : message;
            notifier(settings.notifications()).outcome(kind.get(), ok, text, location(), systemIdentifier().orElse(null))
                    .ifPresent(warnings::add);
        }
        if (settings.metricsAfter(command)) {
            try {
                warnings.addAll(observe(snapshot(settings.thresholds()), settings));
            } catch (RuntimeException e) {
                warnings.add("could not compute the metrics for " + HealthSettings.PG_BACKUP_METRICS_FILE + ": " + e.getMessage());
            }
        }
        return warnings;
    }

    @Override
    public Watch watchArchiver(Map<String, String> env, Consumer<String> warnings) {
        return ArchiverWatch.start(env, this, warnings);
    }
}
