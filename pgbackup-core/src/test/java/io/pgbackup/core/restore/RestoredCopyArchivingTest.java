package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RestorePlanner.RestoreResult;
import io.pgbackup.core.restore.RestorePlan.ArchiveMode;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A test restore beside the running production cluster, on the same host and repository. The
 * copy is started as a DBA would start it, with the backup's own postgresql.conf (archive_mode
 * on, archive_command into this repository): restore must switch its archiving off unless told
 * to preserve it, and a foreign timeline that did land in the archive fails no backup of the
 * production cluster.
 */
class RestoredCopyArchivingTest {
    @TempDir
    Path work;

    ArchivingCluster source;
    PgBackup pg;
    PgCluster copy;

    @BeforeEach
    void start() throws Exception {
        source = ArchivingCluster.withOrders(work, 1000);
        pg = source.pgBackup();
    }

    @AfterEach
    void stop() {
        if (copy != null) {
            copy.close();
        }
        source.close();
    }

    private RestoreResult restoreBeside(Path target, Optional<ArchiveMode> mode) {
        RestoreRequest request = new RestoreRequest(Optional.empty(), new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE,
                Optional.of(target), false);
        RestorePlan plan = pg.restorePlanner().plan(mode.map(request::withArchiveMode).orElse(request));
        return pg.restorePlanner().execute(plan);
    }

    /** Started with the backup's postgresql.conf as it is (no archive_mode of the test's own). */
    private PgCluster startAsIs(Path target) throws Exception {
        copy = PgCluster.startExisting(source.cluster().programs(), target, work.resolve("run-copy"), source.cluster().password(), Map.of());
        copy.awaitPromoted(Duration.ofMinutes(2));
        return copy;
    }

    private List<String> archived(String prefix) throws Exception {
        try (Stream<Path> files = Files.list(source.repository().resolve("wal_archive"))) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        }
    }

    @Test
    void aCopyRestoredBesideTheClusterDoesNotArchiveIntoItsRepository() throws Exception {
        pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path target = work.resolve("test-restore");

        RestoreResult result = restoreBeside(target, Optional.empty());

        assertThat(result.plan().archiveMode()).isEqualTo(ArchiveMode.OFF);
        assertThat(result.plan().recoverySettings()).containsEntry("archive_mode", "off");
        assertThat(result.nextSteps()).anyMatch(s -> s.contains("archive_mode = off") && s.contains("--archive-mode preserve"));
        assertThat(Files.readString(target.resolve("postgresql.auto.conf"))).contains("archive_mode = 'off'");
        PgCluster started = startAsIs(target);
        assertThat(started.queryString("SHOW archive_mode")).isEqualTo("off");
        assertThat(started.queryLong("SELECT timeline_id FROM pg_control_checkpoint()")).isEqualTo(2);
        started.switchWal();
        started.execute("CHECKPOINT");
        // Production archives on meanwhile; by the time its next segment is in, nothing of the copy's timeline is.
        source.switchAndAwaitArchived();
        assertThat(archived("00000002")).isEmpty();
    }

    @Test
    void aPreservedCopysTimelineInTheArchiveIsInformationForVerifyNotAFailure() throws Exception {
        pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path target = work.resolve("test-restore");

        RestoreResult result = restoreBeside(target, Optional.of(ArchiveMode.PRESERVE));
        assertThat(result.plan().archiveMode()).isEqualTo(ArchiveMode.PRESERVE);
        assertThat(result.plan().recoverySettings()).doesNotContainKey("archive_mode");
        PgCluster started = startAsIs(target);
        assertThat(started.queryString("SHOW archive_mode")).isEqualTo("on");
        PgCluster.await(Duration.ofMinutes(1), "the copy's timeline history in the archive", () -> !archived("00000002.history").isEmpty());
        started.switchAndAwaitArchived();
        started.close();
        copy = null;

        // Production goes on on timeline 1: a backup taken after the copy branched off.
        source.cluster().execute("INSERT INTO orders VALUES (5001, 'after the test restore')");
        BackupInfo later = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();

        VerifyReport live = pg.verifier().verify(VerifyRequest.every());
        assertThat(live.ok()).as(live.toString()).isTrue();
        assertThat(walCheck(live, later.id()).detail()).contains("on timeline 1").contains("timeline 2 (branched off timeline 1 at")
                .contains("the running cluster's").contains("information only");

        // Without the cluster: the newest backup's timeline.
        source.cluster().stop();
        VerifyReport offline = pg.verifier().verify(VerifyRequest.of(later.id()));
        assertThat(offline.ok()).as(offline.toString()).isTrue();
        assertThat(walCheck(offline, later.id()).detail()).contains("timeline 2 (branched off").contains("the newest backup's");
    }

    private static VerifyCheck walCheck(VerifyReport report, String id) {
        BackupVerdict verdict = report.backups().stream().filter(v -> v.backupId().equals(id)).findFirst().orElseThrow();
        return verdict.checks().stream().filter(c -> c.name().equals("wal archive")).findFirst().orElseThrow();
    }
}
