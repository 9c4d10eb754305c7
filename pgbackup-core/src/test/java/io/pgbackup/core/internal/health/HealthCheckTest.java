package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.HealthSettings.CheckThresholds;
import io.pgbackup.core.health.CheckReport;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.health.CheckReport.PerfData;
import io.pgbackup.core.health.CheckReport.State;
import io.pgbackup.core.status.StatusReport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The check's rules and rendering on hand-made snapshots: thresholds, states, perf data. */
class HealthCheckTest {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    static final CheckThresholds T = CheckThresholds.defaults();

    @Test
    void thresholdsHaveDefaultsAndRejectBadValuesWithTheFix() {
        assertThat(CheckThresholds.fromEnvironment(Map.of())).isEqualTo(T);
        CheckThresholds set = CheckThresholds.fromEnvironment(Map.of("PG_BACKUP_CHECK_BACKUP_AGE_HOURS", "48",
                "PG_BACKUP_CHECK_ARCHIVE_LAG_SECONDS", " 120 ", "PG_BACKUP_CHECK_READY_FILES", "4",
                "PG_BACKUP_CHECK_VERIFY_AGE_DAYS", "30", "PG_BACKUP_CHECK_FREE_PERCENT", "20"));
        assertThat(set).isEqualTo(new CheckThresholds(Duration.ofHours(48), Duration.ofSeconds(120), 4, Duration.ofDays(30), 20));
        assertThatThrownBy(() -> CheckThresholds.fromEnvironment(Map.of("PG_BACKUP_CHECK_FREE_PERCENT", "100")))
                .isInstanceOf(PgBackupException.class).hasMessage("PG_BACKUP_CHECK_FREE_PERCENT='100' is not a whole number from 1 to 99:"
                        + " set it to e.g. 10 or unset it");
        assertThatThrownBy(() -> CheckThresholds.fromEnvironment(Map.of("PG_BACKUP_CHECK_READY_FILES", "0")))
                .isInstanceOf(PgBackupException.class).hasMessageStartingWith("PG_BACKUP_CHECK_READY_FILES='0'");
    }

    @Test
    void perfDataFollowsThePluginGuidelines() {
        assertThat(new PerfData("backup_age", 3600, "s", 93600.0, 187200.0, 0.0, null).render())
                .isEqualTo("backup_age=3600s;93600;187200;0");
        assertThat(new PerfData("free_percent", 42.25, "%", 10.0, 5.0, 0.0, 100.0).render()).isEqualTo("free_percent=42.250%;10;5;0;100");
        assertThat(new PerfData("backups", 3, "", null, null, 0.0, null).render()).isEqualTo("backups=3;;;0");
        assertThat(new PerfData("ready_files", 2, null, null, null, null, null).render()).isEqualTo("ready_files=2");
        assertThatThrownBy(() -> new PerfData("bad label", 1, "", null, null, null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void healthySnapshotIsOkWithOneLine() {
        CheckReport r = HealthCheck.evaluate(status(Duration.ofHours(2), archiver(false), 0, disk(50)), T, null, NOW);
        assertThat(r.state()).isEqualTo(State.OK);
        assertThat(r.state().exitCode()).isZero();
        assertThat(r.line()).isEqualTo("PGBACKUP OK - newest backup 20260301_100000 2 h old, archiving OK"
                + " | backup_age=7200s;93600;187200;0 backups=1;;;0 archive_failures=0c;;;0 ready_files=0;16;32;0"
                + " archive_age=60s;;600;0 free_percent=50%;10;5;0;100");
    }

    @Test
    void eachProblemHasItsState() {
        assertThat(HealthCheck.evaluate(status(Duration.ofHours(30), archiver(false), 0, disk(50)), T, null, NOW).state())
                .isEqualTo(State.WARNING);
        assertThat(HealthCheck.evaluate(status(Duration.ofHours(60), archiver(false), 0, disk(50)), T, null, NOW).state())
                .isEqualTo(State.CRITICAL);
        CheckReport failing = HealthCheck.evaluate(status(Duration.ofHours(2), archiver(true), 0, disk(50)), T, null, NOW);
        assertThat(failing.state()).isEqualTo(State.CRITICAL);
        assertThat(failing.state().exitCode()).isEqualTo(2);
        assertThat(failing.summary()).startsWith("archiving is failing: last failure 000000010000000000000005");
        CheckReport backlog = HealthCheck.evaluate(status(Duration.ofHours(2), archiver(false), 20, disk(50)), T, null, NOW);
        assertThat(backlog.state()).isEqualTo(State.WARNING);
        assertThat(backlog.findings()).extracting(CheckReport.Finding::key).containsExactly("ready_files");
        // Files waiting, none failing, nothing archived for longer than the lag: stuck.
        StatusReport.Archiver quiet = new StatusReport.Archiver(4, "000000010000000000000004",
                OffsetDateTime.ofInstant(NOW.minus(Duration.ofMinutes(20)), ZoneOffset.UTC), 0, null, null);
        CheckReport stuck = HealthCheck.evaluate(status(Duration.ofHours(2), quiet, 2, disk(50)), T, null, NOW);
        assertThat(stuck.state()).isEqualTo(State.CRITICAL);
        assertThat(stuck.summary()).contains("2 WAL file(s) ready but nothing archived for 1200 s").contains("stuck");
        assertThat(HealthCheck.evaluate(status(Duration.ofHours(2), quiet, 0, disk(50)), T, null, NOW).state())
                .as("an idle cluster archives nothing and is fine").isEqualTo(State.OK);
        assertThat(HealthCheck.evaluate(status(Duration.ofHours(2), archiver(false), 0, disk(8)), T, null, NOW).state())
                .isEqualTo(State.WARNING);
        assertThat(HealthCheck.evaluate(status(Duration.ofHours(2), archiver(false), 0, disk(4)), T, null, NOW).state())
                .isEqualTo(State.CRITICAL);
        // Never verified: fine for a young repository, a warning once it is older than the verify threshold.
        OffsetDateTime longAgo = OffsetDateTime.ofInstant(NOW.minus(Duration.ofDays(20)), ZoneOffset.UTC);
        CheckReport unverified = HealthCheck.evaluate(status(Duration.ofHours(2), archiver(false), 0, disk(50)), T, longAgo, NOW);
        assertThat(unverified.state()).isEqualTo(State.WARNING);
        assertThat(unverified.findings()).extracting(CheckReport.Finding::key).containsExactly("verify", "restore_test");
    }

    @Test
    void stuckArchiverAndLaggingOffsiteCopy() {
        Instant errorAt = NOW.minus(Duration.ofMinutes(30));
        ArchiverState stuck = new ArchiverState(true, 42, "/pg", NOW.minus(Duration.ofHours(1)), NOW, 3, "", null, 0, 0, 0, 5,
                "could not store 000000010000000000000007: No space left on device", errorAt, 12,
                NOW.minus(Duration.ofMinutes(15)), "bucket unreachable");
        StatusReport s = status(Duration.ofHours(2), archiver(false), 3, disk(50));
        s = new StatusReport(s.verdict(), s.reasons(), s.config(), s.cluster(), s.walArchive(), s.backups(), s.disk(), null,
                new StatusReport.ArchiverStatus("async", 3, stuck));
        CheckReport r = HealthCheck.evaluate(s, T, null, NOW);
        assertThat(r.state()).isEqualTo(State.CRITICAL);
        assertThat(r.findings()).extracting(CheckReport.Finding::key).contains("archiver", "offsite");
        assertThat(r.line()).contains("offsite_lag=900s");
    }

    @Test
    void unknownIsOneLineWithoutPerfData() {
        CheckReport r = CheckReport.unknown("cannot read /repo\nsecond line | pipe");
        assertThat(r.state().exitCode()).isEqualTo(3);
        assertThat(r.line()).isEqualTo("PGBACKUP UNKNOWN - cannot read /repo second line / pipe");
    }

    static StatusReport status(Duration backupAge, StatusReport.Archiver archiver, int ready, StatusReport.DiskStatus disk) {
        StatusReport.ClusterStatus cluster = new StatusReport.ClusterStatus(true, null, "15", "7", 1, Map.of(), true, archiver);
        StatusReport.BackupsStatus backups = new StatusReport.BackupsStatus(1, 1000, "20260301_100000",
                OffsetDateTime.ofInstant(NOW.minus(backupAge), ZoneOffset.UTC), backupAge, "20260301_100000",
                List.of(new StatusReport.BackupVerification("20260301_100000", null, null, null, null, null, null)), List.of());
        StatusReport.WalArchiveStatus wal = new StatusReport.WalArchiveStatus(5, 5000, "000000010000000000000004",
                OffsetDateTime.ofInstant(NOW.minusSeconds(60), ZoneOffset.UTC), Duration.ofSeconds(60));
        boolean failing = archiver.failingNow();
        return new StatusReport(failing ? StatusReport.Verdict.FAIL : StatusReport.Verdict.OK, List.of(), null, cluster, wal, backups,
                disk, null, new StatusReport.ArchiverStatus("sync", ready, null));
    }

    static StatusReport.Archiver archiver(boolean failing) {
        OffsetDateTime archived = OffsetDateTime.ofInstant(NOW.minusSeconds(60), ZoneOffset.UTC);
        return failing
                ? new StatusReport.Archiver(4, "000000010000000000000004", archived, 3, "000000010000000000000005",
                OffsetDateTime.ofInstant(NOW.minusSeconds(10), ZoneOffset.UTC))
                : new StatusReport.Archiver(4, "000000010000000000000004", archived, 0, null, null);
    }

    static StatusReport.DiskStatus disk(int freePercent) {
        return new StatusReport.DiskStatus(100, freePercent * 1000L, 100_000L);
    }
}
