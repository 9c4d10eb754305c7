package io.pgbackup.core.backup;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Backups taken from a real streaming standby, its WAL archived either by the standby itself
 * ({@code archive_mode = always}) or by the primary, restored to a time on the primary's history.
 */
class StandbyBackupTest {
    /** A standby's backup must end without any write on the primary: an idle primary must not make it hang. */
    private static final Duration BACKUP_LIMIT = Duration.ofMinutes(2);

    @TempDir
    Path work;

    private final List<AutoCloseable> clusters = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : clusters) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T closing(T cluster) {
        clusters.add(0, cluster);
        return cluster;
    }

    private static void addOrders(PgCluster primary) throws Exception {
        primary.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)",
                "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 1000) g");
    }

    private static Map<String, String> archivingInto(PgBackup repo, String mode) {
        return Map.of("archive_mode", mode,
                "archive_command", "'" + repo.archiveSetup().archiveCommand().replace("'", "''") + "'");
    }

    /**
     * Backs up the standby once it has replayed all the primary wrote, and checks the backup ends
     * within that WAL: it needed no later record (no pg_switch_wal, no write on the primary).
     */
    private BackupInfo backupOnIdlePrimary(PgBackup pg, PgCluster primary, PgCluster standby) throws Exception {
        standby.awaitReplayed(primary, Duration.ofMinutes(1));
        String primaryLsn = primary.queryString("SELECT pg_current_wal_lsn()");
        BackupInfo backup = assertTimeoutPreemptively(BACKUP_LIMIT, () -> pg.backups().backup(BackupOptions.defaults()),
                "a backup from a standby waited for a write on the primary");
        assertThat(primary.queryString("SELECT '" + backup.manifest().stopLsn() + "'::pg_lsn <= '" + primaryLsn + "'::pg_lsn"))
                .as("stop %s within the primary's WAL before the backup (%s)", backup.manifest().stopLsn(), primaryLsn)
                .isEqualTo("t");
        return backup;
    }

    private static OffsetDateTime serverNow(PgCluster cluster) throws Exception {
        try (var c = cluster.connect(); var st = c.createStatement(); var rs = st.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class);
        }
    }

    /** Restores {@code backup} to {@code time} with target action promote, starts it and waits for the promotion. */
    private PgCluster restoreTo(PgBackup pg, BackupInfo backup, OffsetDateTime time, String password) throws Exception {
        Path dir = work.resolve("restored");
        pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()),
                new RecoveryTarget.Time(time), TargetAction.PROMOTE, Optional.of(dir), false)));
        // The standby's standby.signal came along in base.tar; left there, the copy would stay a standby.
        assertThat(dir.resolve("standby.signal")).doesNotExist();
        PgCluster copy = closing(PgCluster.startExisting(dir, work.resolve("restored-run"), password));
        copy.awaitPromoted(Duration.ofMinutes(2));
        return copy;
    }

    @Test
    void standbyArchivingWithArchiveModeAlwaysBacksUpVerifiesAndRestoresToATimeOnThePrimarysHistory() throws Exception {
        PgCluster primary = closing(PgCluster.create(work.resolve("primary")));
        addOrders(primary);
        Path repo = work.resolve("repo");
        // The repository and its archive_wal.sh exist before the standby starts archiving into it.
        PgBackup setup = PgBackup.create(primary.config(repo));
        setup.archiveSetup().init();
        PgCluster standby = closing(PgCluster.createStandby(primary, work.resolve("standby"), archivingInto(setup, "always")));
        PgBackup pg = PgBackup.create(standby.config(repo));

        BackupInfo backup = backupOnIdlePrimary(pg, primary, standby);
        assertThat(backup.manifest().fromStandby()).isTrue();
        assertThat(backup.manifest().timeline()).isEqualTo(1);
        assertThat(backup.manifest().systemIdentifier()).isEqualTo(primary.queryString(
                "SELECT system_identifier::text FROM pg_control_system()"));

        primary.execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(1001, 1500) g");
        standby.awaitReplayed(primary, Duration.ofMinutes(1));
        OffsetDateTime t = serverNow(primary);
        String atT = fingerprint(primary, "orders");
        primary.execute("UPDATE orders SET item = 'changed' WHERE id <= 100", "DROP TABLE orders");
        String segment = primary.switchWal();
        standby.awaitReplayed(primary, Duration.ofMinutes(1));
        PgCluster.await(Duration.ofMinutes(1), "the standby to archive " + segment, () -> standby.queryString(
                "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(segment) >= 0);

        StatusReport status = pg.status().report();
        StatusReport.Standby s = status.cluster().standby();
        assertThat(s).isNotNull();
        assertThat(s.walReceiver()).isEqualTo("streaming");
        assertThat(s.archivesHere()).isTrue();
        assertThat(s.replayLsn()).isNotBlank();
        assertThat(s.replayLagBytes()).isNotNegative();
        assertThat(s.replayDelay()).isNotNull();
        assertThat(status.cluster().archiver().lastArchivedWal()).isGreaterThanOrEqualTo(segment);
        assertThat(status.reasons()).noneMatch(r -> r.contains("archive_mode") || r.contains("archive_command"));

        VerifyReport verified = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true)
                .withRestoreTestDir(work.resolve("restore-test")));
        assertThat(verified.ok()).as("%s", verified).isTrue();

        PgCluster copy = restoreTo(pg, backup, t, primary.password());
        assertThat(fingerprint(copy, "orders")).isEqualTo(atT);
    }

    @Test
    void primaryArchivingAndAStandbyBackupRestoreToATime() throws Exception {
        ArchivingCluster source = closing(ArchivingCluster.withOrders(work.resolve("p"), 1000));
        PgCluster primary = source.cluster();
        // The standby inherits archive_mode = on from the primary's postgresql.conf: it archives nothing until promoted.
        PgCluster standby = closing(PgCluster.createStandby(primary, work.resolve("standby"), Map.of()));
        PgBackup pg = PgBackup.create(standby.config(source.repository()));

        BackupInfo backup = backupOnIdlePrimary(pg, primary, standby);
        assertThat(backup.manifest().fromStandby()).isTrue();

        StatusReport status = pg.status().report();
        StatusReport.Standby s = status.cluster().standby();
        assertThat(s.archivesHere()).isFalse();
        assertThat(s.archiving()).contains("the primary must archive");
        assertThat(status.cluster().archiver()).isNull();
        assertThat(status.verdict()).isNotEqualTo(StatusReport.Verdict.FAIL);

        primary.execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(1001, 1500) g");
        OffsetDateTime t = source.serverNow();
        String atT = fingerprint(primary, "orders");
        primary.execute("DELETE FROM orders WHERE id > 10");
        source.switchAndAwaitArchived();

        assertThat(pg.verifier().verify(VerifyRequest.of(backup.id())).ok()).isTrue();
        PgCluster copy = restoreTo(pg, backup, t, primary.password());
        assertThat(fingerprint(copy, "orders")).isEqualTo(atT);
    }

    @Test
    void primaryAndStandbyArchiveIntoOneRepositoryAndAPromotedStandbyContinues() throws Exception {
        ArchivingCluster source = closing(ArchivingCluster.withOrders(work.resolve("p"), 1000));
        PgCluster primary = source.cluster();
        PgCluster standby = closing(PgCluster.createStandby(primary, work.resolve("standby"),
                archivingInto(source.pgBackup(), "always")));
        PgBackup pg = PgBackup.create(standby.config(source.repository()));
        BackupInfo backup = backupOnIdlePrimary(pg, primary, standby);

        for (int i = 0; i < 2; i++) {
            primary.execute("INSERT INTO orders SELECT g, 'more' FROM generate_series(" + (2000 + i * 100) + ", "
                    + (2099 + i * 100) + ") g");
            String segment = source.switchAndAwaitArchived();
            PgCluster.await(Duration.ofMinutes(1), "the standby to archive " + segment, () -> standby.queryString(
                    "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(segment) >= 0);
        }
        // Both archived the same segments: the second copy of each was identical, so neither failed.
        String archiveLog = java.nio.file.Files.readString(source.repository().resolve("logs/wal_archive.log"));
        assertThat(primary.queryLong("SELECT failed_count FROM pg_stat_archiver")).as(archiveLog).isZero();
        assertThat(standby.queryLong("SELECT failed_count FROM pg_stat_archiver")).as(archiveLog).isZero();

        // The primary is lost: the promoted standby archives on timeline 2 into the same repository.
        primary.stop();
        standby.execute("SELECT pg_promote()");
        standby.awaitPromoted(Duration.ofMinutes(1));
        standby.execute("INSERT INTO orders VALUES (9001, 'after promotion')");
        String fingerprintAfter = fingerprint(standby, "orders");
        String segment = standby.switchAndAwaitArchived();
        assertThat(segment).startsWith("00000002");
        assertThat(pg.status().report().cluster().standby()).isNull();

        assertThat(pg.verifier().verify(VerifyRequest.of(backup.id())).ok()).isTrue();
        standby.stop();
        Path dir = work.resolve("restored");
        pg.restorePlanner().execute(pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()),
                new RecoveryTarget.EndOfWal(), TargetAction.PROMOTE, Optional.of(dir), false)));
        PgCluster copy = closing(PgCluster.startExisting(dir, work.resolve("restored-run"), primary.password()));
        try {
            copy.awaitPromoted(Duration.ofMinutes(2));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + copy.log() + "\n" + java.nio.file.Files.readString(
                    source.repository().resolve("logs/wal_archive.log")), e);
        }
        assertThat(fingerprint(copy, "orders")).isEqualTo(fingerprintAfter);
    }
}
