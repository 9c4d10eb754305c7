package io.pgbackup.core.health;

import io.pgbackup.core.health.HealthSettings.CheckThresholds;
import io.pgbackup.core.status.StatusReport;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code check}, {@code metrics} and notifications: one status snapshot judged against thresholds
 * and rendered as Prometheus metrics ({@code PgBackup.health()}). Reads the cluster and the
 * repository; writes only the metrics file and the notifier's outcome records.
 */
public interface Health {
    /** One snapshot, the check's verdict on it and its metrics: the three agree because they share it. */
    record Snapshot(StatusReport status, CheckReport check, MetricSnapshots metrics) {
        public String metricsText() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                PrometheusTextFormatWriter.create().write(out, metrics);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    Snapshot snapshot(CheckThresholds thresholds);

    /** {@code pgbackup check}: never throws; a check that cannot run is UNKNOWN. */
    CheckReport check(CheckThresholds thresholds);

    /**
     * Rewrites {@code file} with the metrics: temp file, fsync, rename, so node_exporter never
     * reads half a file.
     */
    void writeMetricsFile(Path file, CheckThresholds thresholds) throws IOException;

    /** Where the repository is, for events. */
    String location();

    /** The cluster's system identifier as the repository recorded it (cluster.json), if it did. */
    Optional<String> systemIdentifier();

    /**
     * What every snapshot feeds: the metrics file (when configured) and the archiving state to the
     * notify command (an event when archiving starts failing and when it recovers).
     *
     * @return warnings to print (one line each)
     */
    List<String> observe(Snapshot snapshot, HealthSettings settings);

    /**
     * What archive_wal.sh tells (sync mode, only when its outcome changes): archiving failed
     * ({@code ok} false, the script's message) or works again. Notifies once per change and
     * rewrites the metrics file, as {@code settings} ask. Never fails.
     *
     * @return warnings to print (one line each)
     */
    List<String> archiveScriptEvent(boolean ok, String message, HealthSettings settings);

    /**
     * After a command ({@code backup}, {@code sync}, ...): its outcome to the notify command and
     * the metrics file rewritten, as {@code settings} ask. Never fails.
     *
     * @return warnings to print (one line each)
     */
    List<String> afterCommand(String command, boolean ok, String message, HealthSettings settings);

    /**
     * While the async archiver runs: the metrics file and archiving events kept current from
     * outside it; closing takes one last look. A watch that does nothing when neither is configured.
     */
    Watch watchArchiver(Map<String, String> env, Consumer<String> warnings);

    /** A running {@link #watchArchiver} watch. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }
}
