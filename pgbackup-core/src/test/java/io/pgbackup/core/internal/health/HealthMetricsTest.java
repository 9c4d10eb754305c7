package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.HealthSettings.CheckThresholds;
import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.status.StatusReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The Prometheus rendering of a snapshot, and the atomic textfile. */
class HealthMetricsTest {
    @TempDir
    Path dir;

    @Test
    void namesValuesAndUnknownsLeftOut() throws Exception {
        StatusReport failing = HealthCheckTest.status(Duration.ofHours(2), HealthCheckTest.archiver(true), 3, HealthCheckTest.disk(50));
        CheckReport check = HealthCheck.evaluate(failing, CheckThresholds.defaults(), null, HealthCheckTest.NOW);
        String text = HealthMetrics.text(HealthMetrics.snapshot(failing, check, null, null, HealthCheckTest.NOW));
        assertThat(text).contains("# TYPE pgbackup_check_status gauge\n").contains("pgbackup_check_status 2.0\n")
                .contains("pgbackup_wal_archive_failing 1.0\n").contains("pgbackup_wal_ready_files 3.0\n")
                .contains("# TYPE pgbackup_wal_archive_failures_total counter\n").contains("pgbackup_wal_archive_failures_total 3.0\n")
                .contains("pgbackup_wal_archive_last_failure_timestamp_seconds ")
                .contains("pgbackup_repository_free_bytes 50000.0\n")
                // No manifest given: nothing about the newest backup rather than zeros.
                .doesNotContain("pgbackup_backup_last_success_timestamp_seconds").doesNotContain("pgbackup_recovery_window_seconds");

        StatusReport unreachable = new StatusReport(StatusReport.Verdict.WARN, List.of(), null,
                new StatusReport.ClusterStatus(false, "connection refused", null, null, 0, Map.of(), false, null),
                failing.walArchive(), failing.backups(), failing.disk());
        String quiet = HealthMetrics.text(HealthMetrics.snapshot(unreachable,
                HealthCheck.evaluate(unreachable, CheckThresholds.defaults(), null, HealthCheckTest.NOW), null, null, HealthCheckTest.NOW));
        assertThat(quiet).doesNotContain("pgbackup_wal_archive_failing").contains("pgbackup_wal_archive_last_success_timestamp_seconds");
    }

    @Test
    void textfileIsReplacedWhole() throws Exception {
        Path file = dir.resolve("pgbackup.prom");
        DefaultHealth.writeMetricsFile(file, "pgbackup_check_status 0.0\n");
        DefaultHealth.writeMetricsFile(file, "pgbackup_check_status 2.0\n");
        assertThat(Files.readString(file)).isEqualTo("pgbackup_check_status 2.0\n");
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        try (var entries = Files.list(dir)) {
            assertThat(entries).containsExactly(file);
        }
    }
}
