package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.retention.RetentionPolicy.RetentionResult;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16, item 7, on a real cluster: a restore leaves a marker; while it lives, cleanup keeps the
 * restored backup and the WAL its replay reads through restore_wal.sh, and says why; status shows
 * the restore; the end of recovery removes the marker, and cleanup then deletes them.
 */
class RestoreMarkerClusterTest {
    @TempDir
    Path work;

    @Test
    void cleanupKeepsWhatARestoreInProgressReplaysUntilItsRecoveryEnds() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            PgCluster cluster = source.cluster();
            PgBackup pg = source.pgBackup();
            cluster.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            for (int i = 0; i < 2; i++) {
                cluster.execute("INSERT INTO t SELECT g, 'round " + i + "' FROM generate_series(" + (i * 1000 + 1) + ", "
                        + (i + 1) * 1000 + ") g");
                source.switchAndAwaitArchived();
                pg.backups().backup(BackupOptions.defaults());
                source.switchAndAwaitArchived();
            }
            cluster.execute("INSERT INTO t SELECT g, 'after the last backup' FROM generate_series(5001, 5100) g");
            String expected = fingerprint(cluster, "t");
            source.switchAndAwaitArchived();
            cluster.stop();
            List<BackupInfo> backups = pg.backups().list();
            BackupInfo old = backups.get(0);
            BackupInfo newest = backups.get(1);
            Path wal = source.repository().resolve("wal_archive");
            String oldStart = old.manifest().startWalFile();

            // The older backup is restored; its server is not started yet.
            Path target = work.resolve("restored");
            pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(old.id()),
                    new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(target), false)));
            Path marker = single(source.repository().resolve("restores"));
            assertThat(marker.getFileName().toString()).startsWith(old.id() + "-").endsWith(".json");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(marker))).isEqualTo("rw-------");
            assertThat(Files.readString(target.resolve("pg_wal/pgbackup_restore")).strip())
                    .isEqualTo(marker.getFileName().toString().replace(".json", ""));

            // A cleanup that keeps only the newest backup and no WAL beyond it: the restore keeps its part.
            PgBackup strict = cleanup(source, Clock.systemUTC());
            RetentionPlan plan = strict.retentionPolicy().plan();
            assertThat(plan.delete()).isEmpty();
            assertThat(plan.keep()).filteredOn(d -> d.id().equals(old.id())).singleElement()
                    .satisfies(d -> assertThat(d.reason()).startsWith("being restored into " + target + " on "));
            assertThat(plan.notes()).anyMatch(n -> n.startsWith("restore of backup " + old.id() + " into " + target)
                    && n.endsWith("and WAL from " + oldStart + " on (timeline 1 and later) stay"));
            assertThat(plan.walToDelete()).allMatch(w -> w.file().substring(0, 24).compareTo(oldStart) < 0);
            strict.retentionPolicy().execute(plan);
            assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(old.id(), newest.id());
            assertThat(names(wal)).anyMatch(n -> n.startsWith(oldStart));

            // status shows it.
            assertThat(pg.status().report().restores()).singleElement().satisfies(r -> {
                assertThat(r.backupId()).isEqualTo(old.id());
                assertThat(r.targetDir()).isEqualTo(target.toString());
                assertThat(r.startWal()).isEqualTo(oldStart);
                assertThat(r.expires()).isAfter(Instant.now().plus(Duration.ofHours(23)));
            });

            // A marker nobody renewed for a day (a restore that died) protects nothing and goes.
            RetentionPlan dayLater = cleanup(source, Clock.fixed(Instant.now().plus(Duration.ofHours(25)), ZoneOffset.UTC))
                    .retentionPolicy().plan();
            assertThat(dayLater.delete()).extracting(RetentionPlan.BackupDecision::id).containsExactly(old.id());
            assertThat(dayLater.orphans()).anyMatch(o -> o.keys().equals(List.of("restores/" + marker.getFileName())));

            // Replay reads the kept WAL through restore_wal.sh to the archive's end; the end of recovery removes the marker.
            try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run-restored"), cluster.password())) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "t")).isEqualTo(expected);
                PgCluster.await(Duration.ofMinutes(1), "recovery_end_command to remove the marker", () -> !Files.exists(marker));
                assertThat(target.resolve("pg_wal/pgbackup_restore")).doesNotExist();
            }
            assertThat(pg.status().report().restores()).isEmpty();
            RetentionResult result = strict.retentionPolicy().execute(strict.retentionPolicy().plan());
            assertThat(result.deletedBackups()).containsExactly(old.id());
            assertThat(names(wal)).noneMatch(n -> n.startsWith(oldStart));
        }
    }

    private static PgBackup cleanup(ArchivingCluster source, Clock clock) {
        return PgBackup.builder(source.cluster().config(source.repository()).toBuilder().retainCount(1).retainDays(0)
                .retainWalDays(0).build()).clock(clock).build();
    }

    private static Path single(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> all = s.toList();
            assertThat(all).hasSize(1);
            return all.get(0);
        }
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }
}
