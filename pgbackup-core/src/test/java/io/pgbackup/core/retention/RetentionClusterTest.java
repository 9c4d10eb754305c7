package io.pgbackup.core.retention;

import io.pgbackup.core.retention.RetentionPolicy.RetentionResult;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/** Cleanup on a real archiving cluster, then the kept backup still restores to the end of the archive. */
class RetentionClusterTest {
    @TempDir
    Path work;

    @Test
    void cleanupWithTheClockMovedOnKeepsEverythingTheRetainedBackupReplays() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            PgCluster cluster = source.cluster();
            cluster.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            PgBackup pg = source.pgBackup();
            for (int i = 0; i < 3; i++) {
                cluster.execute("INSERT INTO t SELECT g, 'round " + i + "' FROM generate_series(" + (i * 1000 + 1) + ", " + (i + 1) * 1000 + ") g");
                source.switchAndAwaitArchived();
                pg.backups().backup(BackupOptions.defaults());
                source.switchAndAwaitArchived();
            }
            cluster.execute("INSERT INTO t SELECT g, 'after the last backup' FROM generate_series(5001, 5100) g");
            String expected = fingerprint(cluster, "t");
            source.switchAndAwaitArchived();
            cluster.stop();

            List<BackupInfo> backups = pg.backups().list();
            assertThat(backups).hasSize(3);
            BackupInfo newest = backups.get(2);
            Path walDir = source.repository().resolve("wal_archive");
            List<String> walBefore = names(walDir);

            // A month later, keeping one backup: two backups and the WAL before the newest one's start go.
            PgBackup later = PgBackup.builder(cluster.config(source.repository()).toBuilder().retainCount(1).build())
                    .clock(Clock.fixed(newest.manifest().endTime().toInstant().plus(Duration.ofDays(30)), ZoneOffset.UTC))
                    .build();
            RetentionPlan plan = later.retentionPolicy().plan();
            assertThat(plan.keep()).extracting(RetentionPlan.BackupDecision::id).containsExactly(newest.id());
            assertThat(plan.delete()).hasSize(2);
            assertThat(plan.walFloors()).singleElement()
                    .satisfies(f -> assertThat(f.oldestKept()).isEqualTo(newest.manifest().startWalFile()));
            assertThat(plan.walToDelete()).isNotEmpty();
            RetentionResult result = later.retentionPolicy().execute(plan);
            assertThat(result.deletedBackups()).hasSize(2);

            List<String> walAfter = names(walDir);
            long floor = WalSegmentName.parse(newest.manifest().startWalFile(), newest.manifest().walSegmentSize())
                    .orElseThrow().segmentNumber();
            for (String f : walBefore) {
                Optional<WalSegmentName> s = WalSegmentName.parse(f.substring(0, Math.min(24, f.length())), newest.manifest().walSegmentSize());
                boolean needed = s.isEmpty() || s.get().segmentNumber() >= floor || f.contains(".history");
                assertThat(walAfter.contains(f)).as(f).isEqualTo(needed);
            }
            assertThat(later.backups().list()).extracting(BackupInfo::id).containsExactly(newest.id());

            // The kept backup replays the remaining archive to the end: every row is back.
            Path target = work.resolve("restored");
            pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(newest.id()),
                    new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(target), false)));
            try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run-restored"), cluster.password())) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "t")).isEqualTo(expected);
            }
        }
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }
}
