package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A cluster with two tablespaces outside PGDATA (a table and an index in each): backed up, verified, restored. */
class TablespaceRestoreTest {
    @TempDir
    Path work;

    ArchivingCluster source;
    PgBackup pg;
    Path ts1;
    Path ts2;
    long oid1;
    long oid2;
    final List<PgCluster> restoredCopies = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        source = ArchivingCluster.create(work);
        pg = source.pgBackup();
        ts1 = Files.createDirectories(work.resolve("ts1"));
        ts2 = Files.createDirectories(work.resolve("ts2"));
        source.cluster().execute("CREATE TABLESPACE one LOCATION '" + ts1 + "'", "CREATE TABLESPACE two LOCATION '" + ts2 + "'",
                "CREATE TABLE a (id int, v text) TABLESPACE one", "CREATE INDEX a_v ON a (v) TABLESPACE two",
                "CREATE TABLE b (id int, v text) TABLESPACE two", "CREATE INDEX b_v ON b (v) TABLESPACE one",
                "INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 3000) g",
                "INSERT INTO b SELECT g, md5((g * 7)::text) FROM generate_series(1, 2000) g");
        oid1 = source.cluster().queryLong("SELECT oid FROM pg_tablespace WHERE spcname = 'one'");
        oid2 = source.cluster().queryLong("SELECT oid FROM pg_tablespace WHERE spcname = 'two'");
    }

    @AfterEach
    void stop() {
        restoredCopies.forEach(PgCluster::close);
        source.close();
    }

    @Test
    void pitrToATimeWithBothTablespacesMappedElsewhereLeavesTheOriginalsUntouched() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        assertThat(backup.manifest().tablespaces()).extracting(t -> t.oid() + " " + t.location() + " " + t.file())
                .containsExactlyInAnyOrder(oid1 + " " + ts1 + " " + oid1 + ".tar.gz", oid2 + " " + ts2 + " " + oid2 + ".tar.gz");
        source.cluster().execute("INSERT INTO a SELECT g, 'late' FROM generate_series(3001, 3500) g", "UPDATE b SET v = 'x' WHERE id < 10");
        OffsetDateTime t = source.serverNow();
        String aAtT = fingerprint(source.cluster(), "a");
        String bAtT = fingerprint(source.cluster(), "b");
        source.cluster().execute("DELETE FROM a", "DROP TABLE b");
        source.switchAndAwaitArchived();
        source.cluster().stop();
        Map<String, String> originals = snapshot(ts1, ts2);

        Path target = work.resolve("restored");
        Path new1 = work.resolve("elsewhere/one");
        Path new2 = work.resolve("elsewhere/two");
        RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.Time(t),
                TargetAction.PROMOTE, Optional.of(target), false, Map.of(ts1, new1, ts2, new2)));
        assertThat(plan.tablespaces()).extracting(RestorePlan.TablespaceTarget::location).containsExactlyInAnyOrder(new1, new2);
        assertThat(String.join("\n", plan.filesToWrite())).contains(new1 + "/ from " + oid1 + ".tar.gz")
                .contains(new2 + "/ from " + oid2 + ".tar.gz").contains(target.resolve("pg_tblspc/" + oid1) + " -> " + new1)
                .contains("tablespace_map");
        assertThat(new1.getParent()).as("planning touches nothing").doesNotExist();
        pg.restorePlanner().execute(plan);

        assertThat(Files.readSymbolicLink(target.resolve("pg_tblspc/" + oid1))).isEqualTo(new1);
        assertThat(Files.readSymbolicLink(target.resolve("pg_tblspc/" + oid2))).isEqualTo(new2);
        assertThat(Files.readString(target.resolve("tablespace_map"))).contains(oid1 + " " + new1 + "\n").contains(oid2 + " " + new2 + "\n");
        try (Stream<Path> s = Files.list(new1)) {
            assertThat(s.map(p -> p.getFileName().toString())).singleElement().satisfies(n -> assertThat(n).startsWith("PG_"));
        }
        // The map differs from the backed-up one by design (it names the new locations); everything else must match.
        pgVerifybackup(backup, target, "--ignore=tablespace_map");

        PgCluster copy = startRestored(target);
        assertThat(fingerprint(copy, "a")).isEqualTo(aAtT);
        assertThat(fingerprint(copy, "b")).isEqualTo(bAtT);
        assertThat(copy.queryString("SELECT pg_tablespace_location(" + oid1 + ")")).isEqualTo(new1.toString());
        assertThat(copy.queryString("SELECT pg_tablespace_location(" + oid2 + ")")).isEqualTo(new2.toString());
        assertThat(copy.queryString("SELECT pg_relation_filepath('a_v')")).startsWith("pg_tblspc/" + oid2 + "/");
        assertThat(Files.readSymbolicLink(target.resolve("pg_tblspc/" + oid1))).isEqualTo(new1);
        assertThat(copy.queryLong("SELECT count(*) FROM a WHERE v = md5('42')")).isEqualTo(1);
        assertThat(snapshot(ts1, ts2)).as("the original tablespaces are untouched").isEqualTo(originals);
    }

    @Test
    void aNonEmptyTablespaceTargetOrAnUnknownMappingIsRefusedAndNothingChanges() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        Path target = work.resolve("restored");
        Path occupied = Files.createDirectories(work.resolve("occupied"));
        Files.writeString(occupied.resolve("somebody's file"), "keep me");

        // No mapping: the originals, in use by the running source, are not empty.
        assertRefused(() -> plan(backup, target, Map.of()), ErrorCode.REFUSED,
                "is not empty: restore the tablespace elsewhere with --tablespace-mapping " + work);
        assertRefused(() -> plan(backup, target, Map.of(ts1, occupied, ts2, work.resolve("free"))), ErrorCode.REFUSED,
                "tablespace directory " + occupied + " is not empty");
        assertRefused(() -> plan(backup, target, Map.of(work.resolve("nowhere"), work.resolve("x"))), ErrorCode.INVALID_ARGUMENT,
                "has no tablespace there");
        assertRefused(() -> plan(backup, target, Map.of(ts1, target.resolve("inside"), ts2, work.resolve("free"))),
                ErrorCode.INVALID_ARGUMENT, "overlaps the data directory");
        assertRefused(() -> RestoreRequest.parseTablespaceMapping(List.of("relative=/x")), ErrorCode.INVALID_ARGUMENT, "not absolute");

        assertThat(target).doesNotExist();
        assertThat(work.resolve("free")).doesNotExist();
        try (Stream<Path> s = Files.list(occupied)) {
            assertThat(s).hasSize(1);
        }
        assertThat(Files.readString(occupied.resolve("somebody's file"))).isEqualTo("keep me");
    }

    @Test
    void inPlaceWithMoveAsideRestoresTablespacesWhereTheyWereAndKeepsTheOldOnesWhole() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        String a = fingerprint(source.cluster(), "a");
        String b = fingerprint(source.cluster(), "b");
        source.cluster().execute("DROP TABLE a");
        source.switchAndAwaitArchived();
        source.cluster().stop();
        Path pgData = source.cluster().dataDir();
        Map<String, String> before = snapshot(ts1, ts2);

        assertRefused(() -> pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.Immediate(),
                TargetAction.PROMOTE, Optional.empty(), false)), ErrorCode.REFUSED, "--move-aside");
        RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.Immediate(),
                TargetAction.PROMOTE, Optional.empty(), true));
        assertThat(plan.tablespaces()).allSatisfy(t -> {
            assertThat(t.relocated()).isFalse();
            assertThat(t.moveAsideTo().orElseThrow().getFileName().toString()).startsWith(t.location().getFileName() + ".pre-restore-");
        });
        pg.restorePlanner().execute(plan);

        Path aside1 = plan.tablespaces().stream().filter(t -> t.oid() == oid1).findFirst().orElseThrow().moveAsideTo().orElseThrow();
        Path aside2 = plan.tablespaces().stream().filter(t -> t.oid() == oid2).findFirst().orElseThrow().moveAsideTo().orElseThrow();
        assertThat(snapshot(aside1, aside2)).as("moved, not changed").isEqualTo(rebase(before, ts1, aside1, ts2, aside2));
        // The old PGDATA's links follow its tablespaces aside: it could still be started as it was.
        Path oldData = plan.moveAsideTo().orElseThrow();
        assertThat(Files.readSymbolicLink(oldData.resolve("pg_tblspc/" + oid1))).isEqualTo(aside1);
        assertThat(Files.readSymbolicLink(oldData.resolve("pg_tblspc/" + oid2))).isEqualTo(aside2);
        // Back where they were: tablespace_map as PostgreSQL wrote it, so pg_verifybackup accepts it all.
        pgVerifybackup(backup, pgData);

        PgCluster copy = startRestored(pgData);
        assertThat(fingerprint(copy, "a")).isEqualTo(a);
        assertThat(fingerprint(copy, "b")).isEqualTo(b);
        assertThat(Files.readSymbolicLink(pgData.resolve("pg_tblspc/" + oid1))).isEqualTo(ts1);
    }

    @Test
    void verifyAndTheRestoreTestPassAndNeverTouchTheOriginals() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        source.cluster().stop();
        Map<String, String> originals = snapshot(ts1, ts2);
        Path scratch = Files.createDirectories(work.resolve("scratch"));

        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true).withRestoreTestDir(scratch))
                .backups().get(0);

        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        assertThat(verdict.checks()).extracting(VerifyCheck::name).contains(oid1 + ".tar.gz", oid2 + ".tar.gz");
        assertThat(verdict.checks().stream().filter(c -> c.name().equals(oid1 + ".tar.gz")).findFirst().orElseThrow().detail())
                .contains("match backup_manifest");
        assertThat(verdict.restoreTest().orElseThrow().detail()).contains("recovered and promoted");
        assertThat(snapshot(ts1, ts2)).isEqualTo(originals);
        try (Stream<Path> left = Files.list(scratch)) {
            assertThat(left).as("the copy and its tablespaces are removed").isEmpty();
        }
    }

    @Test
    void verifyNamesADamagedTablespaceArchive() throws Exception {
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        source.switchAndAwaitArchived();
        RestoreTest.flipByte(Path.of(backup.location()).resolve(oid2 + ".tar.gz"), 2000);
        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id())).backups().get(0);
        assertThat(verdict.ok()).isFalse();
        assertThat(verdict.firstFailure().orElseThrow()).contains(oid2 + ".tar.gz");
    }

    private RestorePlan plan(BackupInfo backup, Path target, Map<Path, Path> mapping) {
        return pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.EndOfWal(),
                TargetAction.PROMOTE, Optional.of(target), false, mapping));
    }

    private PgCluster startRestored(Path dir) throws Exception {
        PgCluster copy = PgCluster.startExisting(dir, work.resolve("run-" + dir.getFileName()), source.cluster().password());
        restoredCopies.add(copy);
        copy.awaitPromoted(Duration.ofMinutes(2));
        return copy;
    }

    private static void pgVerifybackup(BackupInfo backup, Path dir, String... extra) throws IOException {
        List<String> command = new ArrayList<>(List.of(PgCluster.binaries().tool("pg_verifybackup").toString(), "--no-parse-wal",
                "--manifest-path", Path.of(backup.location()).resolve("backup_manifest").toString()));
        command.addAll(List.of(extra));
        command.add(dir.toString());
        PgCluster.run(command, Duration.ofMinutes(2));
    }

    /** Every file below the directories, by path, with its SHA-256. */
    static Map<String, String> snapshot(Path... dirs) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (Path dir : dirs) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    MessageDigest sha = MessageDigest.getInstance("SHA-256");
                    try (InputStream in = Files.newInputStream(p)) {
                        sha.update(in.readAllBytes());
                    }
                    out.put(p.toString(), HexFormat.of().formatHex(sha.digest()));
                }
            }
        }
        return out;
    }

    private static Map<String, String> rebase(Map<String, String> snapshot, Path from1, Path to1, Path from2, Path to2) {
        Map<String, String> out = new TreeMap<>();
        snapshot.forEach((p, sha) -> out.put(p.startsWith(from1 + "/") ? to1 + p.substring(from1.toString().length())
                : to2 + p.substring(from2.toString().length()), sha));
        return out;
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code, String text) {
        assertThatThrownBy(call).isInstanceOf(PgBackupException.class)
                .hasMessageContaining(text)
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(code))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
