package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RestorePlanner.RestoreResult;
import io.pgbackup.core.restore.RestorePlan.ArchiveMode;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.restore.RecoveryTarget.TargetTimeline;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Point-in-time restores of real clusters, checked row for row, and every refusal. */
class RestoreTest {
    @TempDir
    Path work;

    ArchivingCluster source;
    PgBackup pg;
    final List<PgCluster> restoredCopies = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        source = ArchivingCluster.withOrders(work, 1000);
        pg = source.pgBackup();
    }

    @AfterEach
    void stop() {
        restoredCopies.forEach(PgCluster::close);
        source.close();
    }

    private PgCluster startRestored(Path dir) throws Exception {
        PgCluster copy = PgCluster.startExisting(dir, work.resolve("run-" + dir.getFileName()), source.cluster().password());
        restoredCopies.add(copy);
        copy.awaitPromoted(Duration.ofMinutes(2));
        return copy;
    }

    private RestorePlan plan(Optional<String> id, RecoveryTarget target, Path dir) {
        return pg.restorePlanner().plan(new RestoreRequest(id, target, TargetAction.PROMOTE, Optional.of(dir), false));
    }

    private PgCluster restore(Optional<String> id, RecoveryTarget target, Path dir) throws Exception {
        RestoreResult result = pg.restorePlanner().execute(plan(id, target, dir));
        assertThat(Files.exists(dir.resolve("recovery.signal"))).isTrue();
        assertThat(result.bytesWritten()).isPositive();
        return startRestored(dir);
    }

    @Test
    void restoresToATimeWithExactlyTheRowsOfThatMoment() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.cluster().execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(1001, 1500) g");
        OffsetDateTime t = source.serverNow();
        String atT = fingerprint(source.cluster(), "orders");
        source.cluster().execute("UPDATE orders SET item = 'changed' WHERE id <= 100", "DROP TABLE orders");
        source.switchAndAwaitArchived();
        source.cluster().stop();

        Path target = work.resolve("new");
        RestorePlan plan = plan(Optional.of(backup.id()), new RecoveryTarget.Time(t), target);
        pg.restorePlanner().execute(plan);
        // The archived segments replay needs wait decompressed in PGDATA; recovery_end_command drops the rest.
        List<String> needed = plan.wal().stream().filter(RestorePlan.WalNeed::present).map(RestorePlan.WalNeed::segment).toList();
        assertThat(needed).isNotEmpty();
        try (var prefetched = Files.list(target.resolve("pg_wal/pgbackup_prefetch"))) {
            assertThat(prefetched.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")))
                    .containsExactlyInAnyOrderElementsOf(needed);
        }
        assertThat(Files.readString(target.resolve("pg_wal/pgbackup_prefetch/.trusted")).strip())
                .isEqualTo("boot " + Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip());
        // PostgreSQL's own check accepts what restore wrote: the prefetched WAL is under pg_wal/, which it leaves to replay.
        PgCluster.run(List.of(PgCluster.binaries().tool("pg_verifybackup").toString(), "--no-parse-wal", "--manifest-path",
                Path.of(backup.location()).resolve("backup_manifest").toString(), target.toString()), Duration.ofMinutes(2));
        PgCluster copy = startRestored(target);
        assertThat(target.resolve("pg_wal/pgbackup_prefetch")).doesNotExist();

        assertThat(fingerprint(copy, "orders")).isEqualTo(atT);
        assertThat(Files.readString(target.resolve("postgresql.auto.conf")))
                .contains("recovery_target_time = '").contains("recovery_target_action = 'promote'")
                .contains("restore_command = '").contains("recovery_target_timeline = 'latest'");
    }

    @Test
    void restoresToAnLsnANamedRestorePointAndImmediate() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        String atBackup = fingerprint(source.cluster(), "orders");
        source.cluster().execute("INSERT INTO orders VALUES (5001, 'a')");
        String atLsn = fingerprint(source.cluster(), "orders");
        String lsn = source.cluster().queryString("SELECT pg_current_wal_insert_lsn()");
        source.cluster().execute("INSERT INTO orders VALUES (5002, 'b')");
        String atName = fingerprint(source.cluster(), "orders");
        source.cluster().execute("SELECT pg_create_restore_point('before_cleanup')");
        source.cluster().execute("DELETE FROM orders");
        source.switchAndAwaitArchived();

        PgCluster byLsn = restore(Optional.of(backup.id()), RecoveryTarget.parseLsn(lsn), work.resolve("lsn"));
        assertThat(fingerprint(byLsn, "orders")).isEqualTo(atLsn);
        PgCluster byName = restore(Optional.empty(), RecoveryTarget.parseName("before_cleanup"), work.resolve("name"));
        assertThat(fingerprint(byName, "orders")).isEqualTo(atName);
        PgCluster immediate = restore(Optional.empty(), new RecoveryTarget.Immediate(), work.resolve("immediate"));
        assertThat(fingerprint(immediate, "orders")).isEqualTo(atBackup);
    }

    @Test
    void restoreToTheEndOfTheArchiveReplaysALaterDrop() throws Exception {
        pg.backups().backup(BackupOptions.defaults());
        source.cluster().execute("CREATE TABLE kept AS SELECT 1 AS x", "DROP TABLE orders");
        source.switchAndAwaitArchived();
        source.cluster().stop();

        PgCluster copy = restore(Optional.empty(), new RecoveryTarget.EndOfWal(), work.resolve("end"));
        assertThat(copy.queryString("SELECT to_regclass('orders')")).isNull();
        assertThat(copy.queryLong("SELECT count(*) FROM kept")).isEqualTo(1);
    }

    @Test
    void followsANewTimelineWhenRestoringAgain() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.cluster().execute("INSERT INTO orders VALUES (2001, 'timeline 1')");
        source.switchAndAwaitArchived();
        source.cluster().stop();

        // First restore becomes timeline 2 and keeps archiving into the same repository.
        PgCluster promoted = source.restoreAsNewTimeline(backup.id(), work.resolve("first"), work.resolve("run-first"));
        restoredCopies.add(promoted);
        assertThat(promoted.queryLong("SELECT timeline_id FROM pg_control_checkpoint()")).isEqualTo(2);
        promoted.execute("INSERT INTO orders VALUES (3001, 'timeline 2')");
        String onTimeline2 = fingerprint(promoted, "orders");
        promoted.switchAndAwaitArchived();
        promoted.stop();
        assertThat(source.repository().resolve("wal_archive/00000002.history.gz")).exists();

        PgCluster second = restore(Optional.of(backup.id()), new RecoveryTarget.EndOfWal(), work.resolve("second"));
        assertThat(fingerprint(second, "orders")).isEqualTo(onTimeline2);
        assertThat(second.queryLong("SELECT timeline_id FROM pg_control_checkpoint()")).isEqualTo(3);
    }

    @Test
    void theTimelineIsChosenAndOneThatBranchedOffBeforeTheBackupIsRefusedBeforeAnythingIsWritten() throws Exception {
        BackupInfo first = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        // A restored copy promotes onto timeline 2 and archives into this repository; production goes on, on timeline 1.
        PgCluster copy = source.restoreAsNewTimeline(first.id(), work.resolve("copy"), work.resolve("run-copy"));
        restoredCopies.add(copy);
        copy.execute("INSERT INTO orders VALUES (3001, 'timeline 2')");
        copy.switchAndAwaitArchived();
        copy.stop();
        source.cluster().execute("INSERT INTO orders VALUES (2001, 'timeline 1')");
        source.switchAndAwaitArchived();
        String onTimeline1 = fingerprint(source.cluster(), "orders");

        // latest, the default: the copy's timeline.
        RestorePlan latest = plan(Optional.of(first.id()), new RecoveryTarget.EndOfWal(), work.resolve("latest"));
        assertThat(latest.timeline()).isEqualTo(2);
        assertThat(latest.recoverySettings()).containsEntry("recovery_target_timeline", "latest");
        PgCluster onLatest = restore(Optional.of(first.id()), new RecoveryTarget.EndOfWal(), work.resolve("latest"));
        assertThat(onLatest.queryLong("SELECT count(*) FROM orders WHERE id = 3001")).isEqualTo(1);
        assertThat(onLatest.queryLong("SELECT count(*) FROM orders WHERE id = 2001")).isZero();
        onLatest.stop();

        // current: timeline 1 to its end, past the point where the copy branched off.
        RestorePlan current = pg.restorePlanner().plan(request(Optional.of(first.id()), work.resolve("current"))
                .withTimeline(TargetTimeline.current()));
        assertThat(current.timeline()).isEqualTo(1);
        assertThat(current.recoverySettings()).containsEntry("recovery_target_timeline", "current");
        pg.restorePlanner().execute(current);
        PgCluster onCurrent = startRestored(work.resolve("current"));
        assertThat(fingerprint(onCurrent, "orders")).isEqualTo(onTimeline1);
        onCurrent.stop();

        // A backup on timeline 1 taken after the branch: latest names timeline 2, on which PostgreSQL would refuse to
        // start; refused in one line before anything is written. current plans it.
        BackupInfo later = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path refused = work.resolve("refused");
        assertRefused(() -> plan(Optional.of(later.id()), new RecoveryTarget.EndOfWal(), refused), ErrorCode.REFUSED,
                "branched off timeline 1 at LSN");
        assertRefused(() -> plan(Optional.empty(), new RecoveryTarget.EndOfWal(), refused), ErrorCode.REFUSED,
                "give --target-timeline current to replay timeline 1 of backup " + later.id());
        assertThat(pg.restorePlanner().plan(request(Optional.of(later.id()), refused).withTimeline(TargetTimeline.current()))
                .timeline()).isEqualTo(1);
        // Named by number, no backup named: the newest backup whose replay can reach it.
        assertThat(pg.restorePlanner().plan(request(Optional.empty(), refused).withTimeline(TargetTimeline.of(2))).backup().id())
                .isEqualTo(first.id());
        assertRefused(() -> pg.restorePlanner().plan(request(Optional.empty(), refused).withTimeline(TargetTimeline.of(7))),
                ErrorCode.INVALID_ARGUMENT, "00000007.history");
        assertRefused(() -> TargetTimeline.parse("0x2"), ErrorCode.INVALID_ARGUMENT, "latest, current or a timeline number");
        assertThat(refused).doesNotExist();
    }

    private static RestoreRequest request(Optional<String> id, Path dir) {
        return new RestoreRequest(id, new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false);
    }

    @Test
    void dryRunPlanTouchesNothingNotEvenTheTargetDir() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path target = work.resolve("never-created");
        RestorePlan plan = plan(Optional.empty(), new RecoveryTarget.EndOfWal(), target);
        assertThat(plan.backup().id()).isEqualTo(backup.id());
        assertThat(plan.wal()).isNotEmpty().allMatch(RestorePlan.WalNeed::present);
        assertThat(plan.recoverySettings()).containsKeys("restore_command", "recovery_target_timeline");
        assertThat(target).doesNotExist();
    }

    @Test
    void refusalsChangeNothing() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path target = work.resolve("target");

        assertRefused(() -> plan(Optional.of("20000101_000000"), new RecoveryTarget.EndOfWal(), target),
                ErrorCode.INVALID_ARGUMENT, backup.id());
        assertRefused(() -> RecoveryTarget.parseTime("yesterday at noon", java.time.ZoneId.systemDefault()),
                ErrorCode.INVALID_ARGUMENT, "YYYY-MM-DD HH:MM:SS");
        assertRefused(() -> RecoveryTarget.parseLsn("nope"), ErrorCode.INVALID_ARGUMENT, "0/3000028");
        assertRefused(() -> plan(Optional.of(backup.id()), new RecoveryTarget.Time(backup.manifest().startTime().minusHours(1)), target),
                ErrorCode.INVALID_ARGUMENT, "is before backup " + backup.id());

        Files.createDirectories(target);
        Files.writeString(target.resolve("somebody's file"), "keep me");
        assertRefused(() -> plan(Optional.empty(), new RecoveryTarget.EndOfWal(), target), ErrorCode.REFUSED, "is not empty");
        assertThat(Files.readString(target.resolve("somebody's file"))).isEqualTo("keep me");

        // A live postmaster.pid: the running source cluster's own data directory.
        assertRefused(() -> plan(Optional.empty(), new RecoveryTarget.EndOfWal(), source.cluster().dataDir()),
                ErrorCode.REFUSED, "PostgreSQL is running");
        assertThat(target.resolve("recovery.signal")).doesNotExist();
    }

    @Test
    void aDamagedBackupIsRefusedBeforeAnythingIsWritten() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        flipByte(Path.of(backup.location()).resolve("base.tar.gz"), 1000);
        Path target = work.resolve("target");
        assertRefused(() -> plan(Optional.of(backup.id()), new RecoveryTarget.Immediate(), target),
                ErrorCode.VERIFICATION_FAILED, "base.tar.gz");
        assertThat(target).doesNotExist();
    }

    @Test
    void aWalGapIsRefusedNamingTheFirstMissingSegment() throws Exception {
        pg.backups().backup(BackupOptions.defaults());
        source.cluster().execute("INSERT INTO orders VALUES (7001, 'x')");
        String missing = source.switchAndAwaitArchived();
        source.cluster().execute("INSERT INTO orders VALUES (7002, 'y')");
        source.switchAndAwaitArchived();
        Files.delete(source.repository().resolve("wal_archive").resolve(missing + ".gz"));
        Path target = work.resolve("target");
        assertRefused(() -> plan(Optional.empty(), new RecoveryTarget.EndOfWal(), target),
                ErrorCode.VERIFICATION_FAILED, missing + " is missing");
        assertThat(target).doesNotExist();
    }

    @Test
    void inPlaceRestoreMovesTheStoppedClustersDataAsideAndNeverDeletesIt() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        String atBackup = fingerprint(source.cluster(), "orders");
        source.cluster().stop();
        Path pgData = source.cluster().dataDir();
        String controlBefore = Files.readString(pgData.resolve("PG_VERSION"));

        assertRefused(() -> pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.Immediate(),
                TargetAction.PROMOTE, Optional.empty(), false)), ErrorCode.REFUSED, "--move-aside");

        RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.Immediate(),
                TargetAction.PROMOTE, Optional.empty(), true));
        Path aside = plan.moveAsideTo().orElseThrow();
        assertThat(aside.getFileName().toString()).startsWith("data.pre-restore-");
        // Into PGDATA itself: the cluster archives as it did before.
        assertThat(plan.archiveMode()).isEqualTo(ArchiveMode.PRESERVE);
        assertThat(plan.recoverySettings()).doesNotContainKey("archive_mode");
        pg.restorePlanner().execute(plan);
        assertThat(Files.readString(pgData.resolve("postgresql.auto.conf"))).doesNotContain("archive_mode");

        assertThat(Files.readString(aside.resolve("PG_VERSION"))).isEqualTo(controlBefore);
        assertThat(Files.getPosixFilePermissions(pgData)).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assertThat(fingerprint(startRestored(pgData), "orders")).isEqualTo(atBackup);
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code, String text) {
        assertThatThrownBy(call).isInstanceOf(PgBackupException.class)
                .hasMessageContaining(text)
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(code))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0xFF);
        }
    }

    static List<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(Path::toString).sorted().toList();
        }
    }
}
