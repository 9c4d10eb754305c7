package io.pgbackup.core.retention;

import io.pgbackup.core.retention.RetentionPolicy.RetentionResult;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.RepositoryFixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;

import static io.pgbackup.core.retention.SyntheticRepository.NOW;
import static io.pgbackup.core.retention.SyntheticRepository.ids;
import static io.pgbackup.core.retention.SyntheticRepository.seg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Retention decisions on synthetic repositories (manifests and WAL names, no cluster), with a fixed clock. */
class RetentionPolicyTest {
    @TempDir
    Path root;
    SyntheticRepository repo;
    Repository repository;

    @BeforeEach
    void layout() throws IOException {
        repo = new SyntheticRepository(root);
        repository = repo.repository();
    }

    private PgBackup pg(int count, int days, int walDays) {
        return repo.pg(count, days, walDays, NOW);
    }

    private void segments(int timeline, long from, long to, String suffix, double daysAgo) throws IOException {
        for (long s = from; s <= to; s++) {
            repo.wal(seg(timeline, s) + suffix, daysAgo);
        }
    }

    private List<String> deletedWal(RetentionPlan plan) {
        return plan.walToDelete().stream().map(RetentionPlan.WalFile::file).toList();
    }

    @Test
    void keepsTheNewestCountAndDeletesOthersOlderThanTheDays() throws Exception {
        String d20 = repo.backup(20, 1, 2);
        String d15 = repo.backup(15, 1, 4);
        String d10 = repo.backup(10, 1, 6);
        String d5 = repo.backup(5, 1, 8);
        String d1 = repo.backup(1, 1, 10);

        RetentionPlan plan = pg(3, 7, 14).retentionPolicy().plan();
        assertThat(ids(plan.keep())).containsExactly(d1, d5, d10);
        assertThat(ids(plan.delete())).containsExactly(d15, d20);
        assertThat(plan.delete()).allMatch(d -> d.reason().contains("older than 7 days"));
        assertThat(plan.keep().get(2).reason()).contains("newest 3");

        // Fewer kept by count: a young backup beyond the count still stays, by age.
        RetentionPlan byAge = pg(1, 7, 14).retentionPolicy().plan();
        assertThat(ids(byAge.keep())).containsExactly(d1, d5);
        assertThat(byAge.keep().get(1).reason()).contains("not older than 7 days");
        assertThat(ids(byAge.delete())).containsExactly(d10, d15, d20);
        assertThat(byAge.delete()).allMatch(d -> d.bytes() > 1000);
        assertThat(byAge.bytesFreed()).isEqualTo(byAge.delete().stream().mapToLong(RetentionPlan.BackupDecision::bytes).sum());
    }

    @Test
    void walBelowTheOldestKeptStartGoesOnlyOnceOlderThanTheWalDays() throws Exception {
        repo.backup(20, 1, 3);
        String kept = repo.backup(1, 1, 10);
        segments(1, 1, 5, ".gz", 30);
        segments(1, 6, 9, ".gz", 2);
        segments(1, 10, 14, ".gz", 1);
        repo.wal(seg(1, 3) + ".00000028.backup.gz", 30);
        repo.wal(seg(1, 10) + ".00000028.backup.gz", 1);

        RetentionPlan plan = pg(1, 7, 14).retentionPolicy().plan();
        assertThat(plan.walFloors()).singleElement().satisfies(f -> {
            assertThat(f.timeline()).isEqualTo(1);
            assertThat(f.oldestKept()).isEqualTo(seg(1, 10));
            assertThat(f.reason()).contains(kept);
        });
        assertThat(deletedWal(plan)).containsExactly(seg(1, 1) + ".gz", seg(1, 2) + ".gz", seg(1, 3) + ".gz",
                seg(1, 3) + ".00000028.backup.gz", seg(1, 4) + ".gz", seg(1, 5) + ".gz");
        assertThat(plan.notes()).anyMatch(n -> n.startsWith("4 WAL file(s)") && n.contains("14 days"));
    }

    @Test
    void everyCompressionSuffixMapsToItsSegment() throws Exception {
        repo.backup(1, 1, 10);
        repo.wal(seg(1, 1) + ".gz", 30);
        repo.wal(seg(1, 2) + ".zst", 30);
        repo.wal(seg(1, 3) + ".lz4", 30);
        repo.wal(seg(1, 4), 30);
        repo.wal(seg(1, 11) + ".zst", 30);
        repo.wal(seg(1, 12) + ".lz4", 30);
        repo.wal(seg(1, 13), 30);

        RetentionPlan plan = pg(1, 7, 14).retentionPolicy().plan();
        assertThat(deletedWal(plan)).containsExactly(seg(1, 1) + ".gz", seg(1, 2) + ".zst", seg(1, 3) + ".lz4", seg(1, 4));
    }

    @Test
    void followsTimelineHistoryAndKeepsWhatAKeptBackupReplaysOnDescendants() throws Exception {
        // Timeline 2 branched from 1 in segment 0x14 (20); timeline 3 from 2 in segment 0x18 (24).
        repo.wal("00000002.history", 40);
        Files.writeString(repository.walArchiveDir().resolve("00000002.history"), "1\t0/14000000\tno recovery target specified\n");
        Path h3 = repository.walArchiveDir().resolve("00000003.history.gz");
        try (var out = io.pgbackup.core.storage.Compression.GZIP.compress(Files.newOutputStream(h3))) {
            out.write("1\t0/14000000\tno recovery target specified\n2\t0/18000000\tbefore 2000-01-01\n".getBytes());
        }
        Files.setLastModifiedTime(h3, FileTime.from(NOW.minus(Duration.ofDays(40))));
        segments(1, 1, 25, ".gz", 30);
        segments(2, 20, 25, ".gz", 30);
        segments(3, 24, 26, ".gz", 30);
        repo.wal(seg(1, 20) + ".partial.gz", 30);

        // A kept backup on timeline 1 at segment 10 replays timelines 2 and 3 too.
        repo.backup(20, 1, 10);
        RetentionPlan onTl1 = pg(1, 7, 14).retentionPolicy().plan();
        assertThat(onTl1.walFloors()).extracting(RetentionPlan.WalFloor::timeline, RetentionPlan.WalFloor::oldestKept)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1, seg(1, 10)),
                        org.assertj.core.groups.Tuple.tuple(2, seg(2, 10)), org.assertj.core.groups.Tuple.tuple(3, seg(3, 10)));
        assertThat(deletedWal(onTl1)).hasSize(9).allMatch(f -> f.startsWith("00000001"));
        assertThat(deletedWal(onTl1)).noneMatch(f -> f.contains("history"));

        // Newer backup on timeline 2 at segment 22, the older one deleted: timeline 2 keeps 22..,
        // timeline 3 (descends from 2) keeps 22.., timeline 1 is unrelated and keeps the oldest kept start 22...
        String onTwo = repo.backup(1, 2, 22);
        RetentionPlan onTl2 = pg(1, 7, 14).retentionPolicy().plan();
        assertThat(ids(onTl2.keep())).containsExactly(onTwo);
        assertThat(onTl2.walFloors()).extracting(RetentionPlan.WalFloor::oldestKept)
                .containsExactly(seg(1, 22), seg(2, 22), seg(3, 22));
        assertThat(onTl2.walFloors().get(0).reason()).contains("no kept backup replays this timeline");
        assertThat(onTl2.walFloors().get(2).reason()).contains("timeline 2, which timeline 3 descends from");
        List<String> gone = deletedWal(onTl2);
        assertThat(gone).contains(seg(2, 20) + ".gz", seg(2, 21) + ".gz", seg(1, 21) + ".gz", seg(1, 20) + ".partial.gz")
                .doesNotContain(seg(2, 22) + ".gz", seg(1, 22) + ".gz", seg(3, 24) + ".gz", "00000002.history",
                        "00000003.history.gz");
        assertThat(gone).hasSize(21 + 1 + 2);
    }

    @Test
    void withNoBackupsNoWalIsDeletedAndThePlanSaysWhy() throws Exception {
        segments(1, 1, 5, ".gz", 100);
        RetentionPlan plan = pg(3, 7, 14).retentionPolicy().plan();
        assertThat(plan.walToDelete()).isEmpty();
        assertThat(plan.isEmpty()).isTrue();
        assertThat(plan.notes()).anyMatch(n -> n.startsWith("there are no backups, so no WAL is deleted"));

        // The same when every backup is old and the count is zero.
        repo.backup(30, 1, 4);
        RetentionPlan none = pg(0, 7, 14).retentionPolicy().plan();
        assertThat(none.delete()).hasSize(1);
        assertThat(none.walToDelete()).isEmpty();
        assertThat(none.notes()).anyMatch(n -> n.startsWith("no backup is kept, so no WAL is deleted"));
    }

    @Test
    void leftoversOfInterruptedRunsGoOnceOldEnough() throws Exception {
        repo.backup(1, 1, 10);
        Path oldStaging = Files.createDirectories(repository.baseDir().resolve(".staging-20260301_000000-123"));
        Files.write(oldStaging.resolve("base.tar"), new byte[500]);
        Files.setLastModifiedTime(oldStaging, FileTime.from(NOW.minus(Duration.ofHours(5))));
        Path youngStaging = Files.createDirectories(repository.baseDir().resolve(".staging-20260301_115900-456"));
        Files.setLastModifiedTime(youngStaging, FileTime.from(NOW.minus(Duration.ofMinutes(30))));
        Path deleting = Files.createDirectories(repository.baseDir().resolve(".deleting-20260101_020000"));
        Files.write(deleting.resolve("pg_wal.tar.gz"), new byte[10]);
        Path oldTemp = repo.wal("." + seg(1, 11) + ".gz.tmp.4242", 2.0 / 24);
        Path atomicTemp = repo.wal("." + seg(1, 12) + ".tmp-0b6c", 2.0 / 24);
        Path youngTemp = repo.wal("." + seg(1, 12) + ".gz.tmp.4343", 10.0 / 24 / 60);

        RetentionPlan plan = pg(3, 7, 14).retentionPolicy().plan();
        assertThat(plan.orphans()).extracting(o -> Path.of(o.location()))
                .containsExactlyInAnyOrder(oldStaging, deleting, oldTemp, atomicTemp);
        assertThat(plan.notes()).anyMatch(n -> n.contains(youngStaging.getFileName().toString()) && n.contains("left alone"));

        pg(3, 7, 14).retentionPolicy().execute(plan);
        assertThat(oldStaging).doesNotExist();
        assertThat(deleting).doesNotExist();
        assertThat(oldTemp).doesNotExist();
        assertThat(youngStaging).exists();
        assertThat(youngTemp).exists();
    }

    @Test
    void planChangesNothingAndExecuteRemovesExactlyThePlan() throws Exception {
        String old = repo.backup(20, 1, 3);
        String kept = repo.backup(1, 1, 10);
        segments(1, 1, 12, ".gz", 30);
        List<String> before = tree();

        List<String> snapshot = snapshot();
        PgBackup pg = pg(1, 7, 14);
        RetentionPlan plan = pg.retentionPolicy().plan();
        assertThat(snapshot()).isEqualTo(snapshot);
        assertThat(ids(plan.delete())).containsExactly(old);

        RetentionResult result = pg.retentionPolicy().execute(plan);
        assertThat(result.deletedBackups()).containsExactly(old);
        assertThat(result.deletedWalFiles()).isEqualTo(9);
        assertThat(result.bytesFreed()).isEqualTo(plan.bytesFreed());
        List<String> after = tree();
        List<String> removed = before.stream().filter(p -> !after.contains(p)).toList();
        assertThat(removed).containsExactlyInAnyOrderElementsOf(Stream.concat(
                Stream.of("base/" + old, "base/" + old + "/base.tar.gz", "base/" + old + "/" + Repository.MANIFEST_FILE),
                plan.walToDelete().stream().map(w -> "wal_archive/" + w.file())).toList());
        assertThat(after).noneMatch(p -> p.contains(".deleting-"));
        assertThat(pg.backups().list()).extracting(b -> b.id()).containsExactly(kept);

        // Running the same plan again finds everything gone and says so.
        RetentionResult again = pg.retentionPolicy().execute(plan);
        assertThat(again.deletedBackups()).isEmpty();
        assertThat(again.skipped()).isNotEmpty();
        assertThat(pg.retentionPolicy().plan().isEmpty()).isTrue();
    }

    @Test
    void aBackupBeingDeletedIsNeverListed() throws Exception {
        String id = repo.backup(1, 1, 10);
        Files.move(repository.baseDir().resolve(id), repository.baseDir().resolve(".deleting-" + id));
        assertThat(pg(3, 7, 14).backups().list()).isEmpty();
    }

    @Test
    void executeRefusesWhileAnotherCommandHoldsTheLockAndChangesNothing() throws Exception {
        repo.backup(20, 1, 3);
        repo.backup(1, 1, 10);
        segments(1, 1, 12, ".gz", 30);
        PgBackup pg = pg(1, 7, 14);
        RetentionPlan plan = pg.retentionPolicy().plan();
        List<String> before = snapshot();
        java.time.Clock heldSince = java.time.Clock.fixed(java.time.Instant.parse("2026-03-01T02:00:00Z"), java.time.ZoneOffset.UTC);
        try (var held = repository.lease("backup", heldSince)) {
            assertThatThrownBy(() -> pg.retentionPolicy().execute(plan))
                    .isInstanceOfSatisfying(PgBackupException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.LOCKED))
                    .hasMessageContaining("another pgbackup command holds the lock")
                    .hasMessageContaining("(backup, pid " + ProcessHandle.current().pid() + ", since 2026-03-01T02:00:00Z)");
        }
        assertThat(snapshot()).isEqualTo(before);
    }

    private List<String> snapshot() throws IOException {
        return RepositoryFixtures.snapshot(repository);
    }

    private List<String> tree() throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(p -> !p.equals(root) && !p.equals(repository.root().resolve(".pgbackup.lock")))
                    .map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }
}
