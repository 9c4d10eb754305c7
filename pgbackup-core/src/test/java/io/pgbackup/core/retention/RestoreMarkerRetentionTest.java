package io.pgbackup.core.retention;

import io.pgbackup.core.retention.RetentionPolicy.RetentionResult;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static io.pgbackup.core.retention.SyntheticRepository.NOW;
import static io.pgbackup.core.retention.SyntheticRepository.ids;
import static io.pgbackup.core.retention.SyntheticRepository.seg;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 16, item 7, on synthetic repositories: cleanup against restore markers ({@code restores/}),
 * live, expired, unreadable, and one that appears between the plan and its execution.
 */
class RestoreMarkerRetentionTest {
    @TempDir
    Path root;
    SyntheticRepository repo;
    Repository repository;
    String old;
    String newest;

    @BeforeEach
    void layout() throws IOException {
        repo = new SyntheticRepository(root);
        repository = repo.repository();
        old = repo.backup(20, 1, 3);
        newest = repo.backup(1, 1, 10);
        for (long s = 1; s <= 12; s++) {
            repo.wal(seg(1, s) + ".gz", 30);
        }
        repo.wal(seg(2, 5) + ".gz", 30); // a later timeline, below the newest backup's start number
    }

    private PgBackup pg(Instant now) {
        return repo.pg(1, 7, 14, now);
    }

    /** A marker as restore writes it, last renewed at {@code renewed}. */
    private Path marker(String id, String content, Instant renewed) throws IOException {
        Path file = Files.createDirectories(root.resolve("restores")).resolve(id + ".json");
        Files.writeString(file, content);
        Files.setLastModifiedTime(file, FileTime.from(renewed));
        return file;
    }

    private String content(String backup, String startWal) {
        return "{\"version\":1,\"backup\":\"" + backup + "\",\"timeline\":1,\"startWal\":\"" + startWal + "\",\"target\":\"end of WAL\","
                + "\"targetDir\":\"/srv/restored\",\"host\":\"db2\",\"pid\":42,\"started\":\"" + NOW.minusSeconds(3600)
                + "\",\"renewed\":\"" + NOW + "\",\"ttlSeconds\":86400}";
    }

    private static List<String> wal(RetentionPlan plan) {
        return plan.walToDelete().stream().map(RetentionPlan.WalFile::file).toList();
    }

    @Test
    void withoutAMarkerTheOldBackupAndItsWalGo() {
        RetentionPlan plan = pg(NOW).retentionPolicy().plan();
        assertThat(ids(plan.delete())).containsExactly(old);
        assertThat(wal(plan)).contains(seg(1, 3) + ".gz", seg(1, 9) + ".gz", seg(2, 5) + ".gz");
    }

    @Test
    void aLiveMarkerKeepsTheBackupAndTheWalFromItsStartOnAndCleanupSaysWhy() throws Exception {
        String id = old + "-0a1b2c3d";
        marker(id, content(old, seg(1, 3)), NOW.minus(Duration.ofHours(2)));

        RetentionPlan plan = pg(NOW).retentionPolicy().plan();

        assertThat(ids(plan.delete())).isEmpty();
        assertThat(plan.keep()).filteredOn(d -> d.id().equals(old)).singleElement().satisfies(d -> assertThat(d.reason())
                .startsWith("being restored into /srv/restored on db2 (restores/" + id + ".json, live until "
                        + NOW.plus(Duration.ofHours(22)) + ")")
                .contains("else it would go: older than 7 days"));
        // Below the restored backup's start it goes; from it on, on timeline 1 and later, it stays.
        assertThat(wal(plan)).containsExactly(seg(1, 1) + ".gz", seg(1, 2) + ".gz");
        assertThat(plan.notes()).anyMatch(n -> n.equals("restore of backup " + old + " into /srv/restored on db2 is in progress"
                + " (restores/" + id + ".json, live until " + NOW.plus(Duration.ofHours(22)) + "): backup " + old
                + " and WAL from " + seg(1, 3) + " on (timeline 1 and later) stay"));

        RetentionResult result = pg(NOW).retentionPolicy().execute(plan);
        assertThat(result.deletedBackups()).isEmpty();
        assertThat(repository.backupIds()).contains(old);
        assertThat(repository.walArchiveDir().resolve(seg(1, 3) + ".gz")).exists();
        assertThat(repository.walArchiveDir().resolve(seg(2, 5) + ".gz")).exists();
        assertThat(repository.walArchiveDir().resolve(seg(1, 2) + ".gz")).doesNotExist();
        assertThat(root.resolve("restores/" + id + ".json")).exists();
    }

    @Test
    void anExpiredMarkerProtectsNothingAndGoesAsALeftover() throws Exception {
        String id = old + "-0a1b2c3d";
        Path file = marker(id, content(old, seg(1, 3)), NOW.minus(Duration.ofHours(25)));

        RetentionPlan plan = pg(NOW).retentionPolicy().plan();

        assertThat(ids(plan.delete())).containsExactly(old);
        assertThat(wal(plan)).contains(seg(1, 3) + ".gz", seg(2, 5) + ".gz");
        assertThat(plan.orphans()).singleElement().satisfies(o -> assertThat(o.reason())
                .isEqualTo("expired restore marker of a restore of backup " + old + " into /srv/restored (expired "
                        + NOW.minus(Duration.ofHours(1)) + ")"));
        pg(NOW).retentionPolicy().execute(plan);
        assertThat(file).doesNotExist();
        assertThat(repository.backupIds()).containsExactly(newest);
    }

    @Test
    void anUnreadableLiveMarkerKeepsEverythingUntilItExpires() throws Exception {
        Path file = marker(old + "-deadbeef", "{\"backup\": \"../../etc\", \"ttlSeconds\": 99999999999", NOW.minus(Duration.ofHours(1)));

        RetentionPlan plan = pg(NOW).retentionPolicy().plan();
        assertThat(plan.delete()).isEmpty();
        assertThat(plan.walToDelete()).isEmpty();
        assertThat(plan.notes()).anyMatch(n -> n.startsWith("restore marker restores/" + old + "-deadbeef.json cannot be read (")
                && n.endsWith("is live until " + NOW.plus(Duration.ofHours(23))
                + ": no backup and no WAL is deleted; remove it if no restore is running"));
        pg(NOW).retentionPolicy().execute(plan);
        assertThat(repository.backupIds()).containsExactly(old, newest);

        // A day later it no longer protects (its claimed lifetime is not believed), and goes.
        Instant later = NOW.plus(Duration.ofHours(24));
        RetentionPlan after = pg(later).retentionPolicy().plan();
        assertThat(ids(after.delete())).containsExactly(old);
        assertThat(after.orphans()).anyMatch(o -> o.keys().equals(List.of("restores/" + old + "-deadbeef.json")));
        pg(later).retentionPolicy().execute(after);
        assertThat(file).doesNotExist();
        assertThat(repository.backupIds()).containsExactly(newest);
    }

    @Test
    void anOversizedMarkerIsNotReadAndKeepsEverything() throws Exception {
        marker(old + "-deadbeef", content(old, seg(1, 3)) + " ".repeat(100_000), NOW.minus(Duration.ofHours(1)));

        RetentionPlan plan = pg(NOW).retentionPolicy().plan();
        assertThat(plan.delete()).isEmpty();
        assertThat(plan.walToDelete()).isEmpty();
        assertThat(plan.notes()).anyMatch(n -> n.contains("cannot be read (") && n.contains("bytes, far more than a marker holds"));
    }

    @Test
    void aRestoreThatStartsBetweenThePlanAndItsExecutionKeepsWhatItNeeds() throws Exception {
        RetentionPlan plan = pg(NOW).retentionPolicy().plan();
        assertThat(ids(plan.delete())).containsExactly(old);

        String id = old + "-0a1b2c3d";
        marker(id, content(old, seg(1, 3)), NOW);
        RetentionResult result = pg(NOW).retentionPolicy().execute(plan);

        assertThat(result.deletedBackups()).isEmpty();
        assertThat(result.skipped()).anyMatch(s -> s.startsWith("backup " + old + " (being restored into /srv/restored"));
        assertThat(result.skipped()).anyMatch(s -> s.startsWith("wal_archive/" + seg(1, 3) + ".gz (being restored"));
        assertThat(repository.backupIds()).containsExactly(old, newest);
        assertThat(repository.walArchiveDir().resolve(seg(1, 3) + ".gz")).exists();
        assertThat(repository.walArchiveDir().resolve(seg(1, 2) + ".gz")).doesNotExist();
    }
}
