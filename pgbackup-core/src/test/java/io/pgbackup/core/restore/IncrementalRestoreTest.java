package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.restore.RestorePlanner.RestoreResult;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Restores that rewrite only what changed, on one real cluster: a delta restore that rewinds a
 * copy which diverged (updates, deletes, a truncate, a dropped and a new table and index, TOAST
 * values, a VACUUM FULL, a table in a tablespace truncated and refilled), and the refusals that leave a directory untouched. Each restored copy
 * must hold exactly the source's rows (an md5 over each table ordered by its rows), pass
 * pg_amcheck, and be accepted by pg_verifybackup.
 */
class IncrementalRestoreTest {
    static final List<String> TABLES = List.of("orders", "docs", "gone", "shrunk");

    @TempDir
    static Path shared;

    static ArchivingCluster source;
    static PgBackup pg;
    final List<PgCluster> copies = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        source = ArchivingCluster.withOrders(shared, 2000);
        pg = source.pgBackup();
        source.cluster().execute(
                "CREATE TABLE docs (id int PRIMARY KEY, title text, body text)",
                // ~10 kB of poorly compressible text per row: stored out of line, in TOAST
                "INSERT INTO docs SELECT g, 'doc ' || g, (SELECT string_agg(md5(g::text || '.' || i), '') FROM generate_series(1, 300) i)"
                        + " FROM generate_series(1, 300) g",
                "CREATE INDEX docs_title ON docs (title)",
                "CREATE TABLE gone (id int PRIMARY KEY, v text)",
                "INSERT INTO gone SELECT g, md5(g::text) FROM generate_series(1, 3000) g",
                "CREATE TABLESPACE ts LOCATION '" + Files.createDirectories(shared.resolve("ts")) + "'",
                "CREATE TABLE shrunk (id int, v text) TABLESPACE ts",
                "INSERT INTO shrunk SELECT g, md5(g::text) FROM generate_series(1, 3000) g",
                // updated in place by the workload: partial INCREMENTAL entries in the tablespace's tar
                "ALTER TABLE orders SET TABLESPACE ts",
                "CHECKPOINT");
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    @AfterEach
    void stopCopies() {
        copies.forEach(PgCluster::close);
        copies.clear();
    }

    /** Changes of every kind a delta or incremental restore must carry over (or undo). */
    static void workload(PgCluster c, int round) throws Exception {
        c.execute("UPDATE orders SET item = 'changed " + round + "' WHERE id % 7 = " + round,
                "DELETE FROM orders WHERE id % 11 = " + round,
                "INSERT INTO orders SELECT g, 'new ' || g FROM generate_series(" + (10000 * (round + 1)) + ", " + (10000 * (round + 1) + 500) + ") g",
                "UPDATE docs SET body = (SELECT string_agg(md5(id::text || 'r" + round + "' || i), '') FROM generate_series(1, 300) i) WHERE id % 5 = " + round,
                "DELETE FROM docs WHERE id % 13 = " + round,
                "VACUUM FULL docs",
                "TRUNCATE shrunk",
                "INSERT INTO shrunk SELECT g, 'after truncate " + round + "' FROM generate_series(1, 200) g",
                "DROP TABLE IF EXISTS gone",
                "CREATE TABLE gone (id int PRIMARY KEY, v text)",
                "INSERT INTO gone SELECT g, 'recreated " + round + "' FROM generate_series(1, 100) g",
                "DROP INDEX IF EXISTS docs_title",
                "CREATE INDEX docs_title ON docs (title, id)");
    }

    static Map<String, String> fingerprints(PgCluster c) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        for (String t : TABLES) {
            out.put(t, fingerprint(c, t));
        }
        return out;
    }

    PgCluster startCopy(Path dir) throws Exception {
        PgCluster copy = PgCluster.startExisting(dir, shared.resolve("run-" + dir.getFileName() + "-" + copies.size()),
                source.cluster().password());
        copies.add(copy);
        copy.awaitPromoted(Duration.ofMinutes(2));
        return copy;
    }

    /** Into {@code dir}, the tablespace beside it in {@code dir-ts}. */
    static RestoreRequest request(String id, Path dir, RecoveryTarget target) {
        return new RestoreRequest(Optional.of(id), target, TargetAction.PROMOTE, Optional.of(dir), false,
                Map.of(shared.resolve("ts"), dir.resolveSibling(dir.getFileName() + "-ts")));
    }

    static void amcheck(PgCluster c) throws Exception {
        PgCluster.run(List.of(PgCluster.binaries().tool("pg_amcheck").toString(), "-h", c.host(), "-p", String.valueOf(c.port()),
                "-U", c.superuser(), "--all", "--install-missing", "--heapallindexed"), Duration.ofMinutes(3),
                Map.of("PGPASSWORD", c.password()));
    }

    static void verifybackup(Path dir, Path manifest) throws Exception {
        List<String> command = new ArrayList<>(List.of(PgCluster.binaries().tool("pg_verifybackup").toString(), "--no-parse-wal"));
        if (manifest != null) {
            // the backup's own manifest: restore rewrote tablespace_map for the relocated tablespace
            command.addAll(List.of("--manifest-path", manifest.toString(), "--ignore", "tablespace_map"));
        }
        command.add(dir.toString());
        PgCluster.run(command, Duration.ofMinutes(2));
    }

    static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String text) {
        assertThatThrownBy(call).isInstanceOf(PgBackupException.class).hasMessageContaining(text)
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.REFUSED))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void deltaRestoreRewindsADivergedCopyAndRefusesARunningOrForeignCluster() throws Exception {
        BackupInfo full = pg.backups().backup(BackupOptions.defaults());
        Map<String, String> atBackup = fingerprints(source.cluster());

        Path dir = shared.resolve("delta-copy");
        long started = System.nanoTime();
        pg.restorePlanner().execute(pg.restorePlanner().plan(request(full.id(), dir, new RecoveryTarget.Immediate())));
        Duration fullRestore = Duration.ofNanos(System.nanoTime() - started);
        PgCluster copy = startCopy(dir);
        workload(copy, 1);
        copy.execute("CREATE TABLE only_in_copy AS SELECT g FROM generate_series(1, 1000) g", "CHECKPOINT");
        assertThat(fingerprints(copy)).isNotEqualTo(atBackup);
        Path sentinel = Files.writeString(dir.resolve("sentinel"), "left by the diverged copy");

        // Running: refused before anything is touched.
        assertRefused(() -> pg.restorePlanner().plan(request(full.id(), dir, new RecoveryTarget.Immediate()).withDelta(true)),
                "PostgreSQL is running in " + dir);
        assertThat(sentinel).exists();
        copy.stop();

        // Another cluster's pg_control: refused, nothing changed.
        Path control = dir.resolve("global/pg_control");
        byte[] original = Files.readAllBytes(control);
        try (RandomAccessFile f = new RandomAccessFile(control.toFile(), "rw")) {
            f.write(new byte[]{1, 2, 3, 4, 5, 6, 7, 8});
        }
        Map<String, String> before = TablespaceRestoreTest.snapshot(dir, dir.resolveSibling("delta-copy-ts"));
        assertRefused(() -> pg.restorePlanner().plan(request(full.id(), dir, new RecoveryTarget.Immediate()).withDelta(true)),
                "holds another cluster");
        assertThat(TablespaceRestoreTest.snapshot(dir, dir.resolveSibling("delta-copy-ts"))).isEqualTo(before);
        Files.write(control, original);

        RestorePlan plan = pg.restorePlanner().plan(request(full.id(), dir, new RecoveryTarget.Immediate()).withDelta(true));
        assertThat(plan.filesToWrite()).anyMatch(l -> l.startsWith("delta into " + dir))
                .contains("remove sentinel")
                .anyMatch(l -> l.startsWith("rewrite changed blocks of base/") || l.startsWith("write base/"));
        Path untouched = dir.resolve("base/1/PG_VERSION");
        Object inode = Files.getAttribute(untouched, "unix:ino");
        started = System.nanoTime();
        RestoreResult result = pg.restorePlanner().execute(plan);
        Duration deltaRestore = Duration.ofNanos(System.nanoTime() - started);
        assertThat(sentinel).doesNotExist();
        assertThat(Files.getAttribute(untouched, "unix:ino")).as("a file that matches is kept, not recreated").isEqualTo(inode);
        // What pg_basebackup would have written, file for file: pg_verifybackup against the backup's own manifest.
        verifybackup(dir, Path.of(full.location()).resolve("backup_manifest"));

        PgCluster rewound = startCopy(dir);
        assertThat(fingerprints(rewound)).isEqualTo(atBackup);
        assertThat(rewound.queryLong("SELECT count(*) FROM pg_class WHERE relname = 'only_in_copy'")).isZero();
        amcheck(rewound);
        System.out.printf("IncrementalRestoreTest: full restore %d ms, delta restore %d ms (%d of %d bytes written)%n",
                fullRestore.toMillis(), deltaRestore.toMillis(), result.bytesWritten(), full.manifest().databaseSizeBytes());
    }

    @Test
    void chainOfIncrementalsRestoresAndADeltaOfItRewindsADivergedCopyToATargetAfterIt() throws Exception {
        long started = System.nanoTime();
        BackupInfo full = pg.backups().backup(BackupOptions.defaults());
        Duration fullBackup = Duration.ofNanos(System.nanoTime() - started);
        workload(source.cluster(), 2);
        BackupInfo incr1 = pg.backups().backup(BackupOptions.defaults().withType(io.pgbackup.core.backup.BackupType.INCR));
        workload(source.cluster(), 3);
        started = System.nanoTime();
        BackupInfo incr2 = pg.backups().backup(BackupOptions.defaults().withType(io.pgbackup.core.backup.BackupType.INCR));
        Duration incrBackup = Duration.ofNanos(System.nanoTime() - started);
        Map<String, String> atNewest = fingerprints(source.cluster());
        assertThat(incr2.manifest().chain()).containsExactly(full.id(), incr1.id());
        source.cluster().execute("INSERT INTO orders SELECT g, 'after the chain' FROM generate_series(90000, 90100) g");
        Map<String, String> atTarget = fingerprints(source.cluster());
        String lsn = source.cluster().queryString("SELECT pg_current_wal_insert_lsn()");
        source.cluster().execute("INSERT INTO orders VALUES (99999, 'past the target')");
        source.switchAndAwaitArchived();

        Path dir = shared.resolve("chain-copy");
        RestorePlan plan = pg.restorePlanner().plan(request(incr2.id(), dir, new RecoveryTarget.Immediate()));
        assertThat(plan.filesToWrite()).anyMatch(l -> l.startsWith("reassembled from the chain " + full.id()));
        started = System.nanoTime();
        pg.restorePlanner().execute(plan);
        Duration chainRestore = Duration.ofNanos(System.nanoTime() - started);
        // The reassembled directory carries its own backup_manifest, which PostgreSQL's checker accepts.
        verifybackup(dir, null);
        PgCluster copy = startCopy(dir);
        assertThat(fingerprints(copy)).isEqualTo(atNewest);
        amcheck(copy);

        // The copy diverges; a delta restore of the chain to a target after the newest backup brings it to that point.
        workload(copy, 4);
        copy.stop();
        pg.restorePlanner().execute(pg.restorePlanner().plan(request(incr2.id(), dir,
                new RecoveryTarget.Lsn(io.pgbackup.core.internal.archive.WalSegmentName.parseLsn(lsn)))
                .withDelta(true)));
        verifybackup(dir, null);
        PgCluster rewound = startCopy(dir);
        assertThat(fingerprints(rewound)).isEqualTo(atTarget);
        amcheck(rewound);

        // verify: the chain is whole, every block an INCREMENTAL entry leaves to older backups is there, and it restores.
        io.pgbackup.core.verify.VerifyReport report = pg.verifier().verify(
                io.pgbackup.core.verify.VerifyRequest.of(incr2.id()).withRestoreTest(true));
        assertThat(report.ok()).as(report.toString()).isTrue();
        assertThat(report.backups().get(0).checks()).anyMatch(c -> c.name().equals("chain") && c.ok()
                && c.detail().startsWith(full.id() + " (full) -> " + incr1.id() + " (incr) -> " + incr2.id() + " (incr)"));
        // Without an ancestor, verify fails the chain and restore refuses before writing anything.
        Path incr1Manifest = Path.of(incr1.location()).resolve("pgbackup_manifest.json");
        Path aside = Files.move(incr1Manifest, shared.resolve("incr1-manifest.json"));
        try {
            assertThat(pg.verifier().verify(io.pgbackup.core.verify.VerifyRequest.of(incr2.id())).backups().get(0).checks())
                    .anyMatch(c -> c.name().equals("chain") && !c.ok() && c.detail().contains("backup " + incr1.id() + " of its chain is missing"));
            Path never = shared.resolve("never-restored");
            assertThatThrownBy(() -> pg.restorePlanner().plan(request(incr2.id(), never, new RecoveryTarget.Immediate())))
                    .isInstanceOf(PgBackupException.class).hasMessageContaining("needs backup " + incr1.id())
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThat(never).doesNotExist();
        } finally {
            Files.move(aside, incr1Manifest);
        }

        started = System.nanoTime();
        pg.restorePlanner().execute(pg.restorePlanner().plan(request(full.id(), shared.resolve("full-copy"), new RecoveryTarget.Immediate())));
        Duration fullRestore = Duration.ofNanos(System.nanoTime() - started);
        System.out.printf("IncrementalRestoreTest: full backup %d ms (%d bytes stored), incr %d ms (%d bytes stored);"
                        + " chain restore %d ms, full restore %d ms%n", fullBackup.toMillis(), full.storedBytes(), incrBackup.toMillis(),
                incr2.storedBytes(), chainRestore.toMillis(), fullRestore.toMillis());
    }

    /**
     * A delta of an incremental onto a copy of its full reads the newer backup only (the full's tars
     * are moved away after the plan and never missed); a page the incremental does not hold that
     * differs in the copy fails the file's checksum, and the file is rewritten from the full.
     */
    @Test
    void deltaOfAnIncrementalReadsTheFullOnlyForFilesItsBlocksDoNotMakeMatch() throws Exception {
        source.cluster().execute("CREATE TABLE still (id int PRIMARY KEY, v text)",
                "INSERT INTO still SELECT g, md5(g::text) FROM generate_series(1, 3000) g",
                "VACUUM (FREEZE) still", "CHECKPOINT");
        String stillFile = source.cluster().queryString("SELECT pg_relation_filepath('still')");
        BackupInfo full = pg.backups().backup(BackupOptions.defaults());
        Path dir = shared.resolve("patched-copy");
        pg.restorePlanner().execute(pg.restorePlanner().plan(request(full.id(), dir, new RecoveryTarget.Immediate())));
        workload(source.cluster(), 5);
        BackupInfo incr = pg.backups().backup(BackupOptions.defaults().withType(io.pgbackup.core.backup.BackupType.INCR));
        assertThat(incr.manifest().chain()).containsExactly(full.id());
        Map<String, String> atIncr = fingerprints(source.cluster());
        String still = fingerprint(source.cluster(), "still");

        // The copy is the full as restored: every file either matches or is fixed by the incremental's blocks.
        RestorePlan plan = pg.restorePlanner().plan(request(incr.id(), dir, new RecoveryTarget.Immediate()).withDelta(true));
        Path fullDir = Path.of(full.location());
        Path aside = Files.createDirectories(shared.resolve("full-tars-aside"));
        List<Path> tars;
        try (var files = Files.list(fullDir)) {
            tars = files.filter(f -> f.getFileName().toString().contains(".tar")).toList();
        }
        assertThat(tars).isNotEmpty();
        for (Path t : tars) {
            Files.move(t, aside.resolve(t.getFileName()));
        }
        try {
            pg.restorePlanner().execute(plan);
        } finally {
            for (Path t : tars) {
                Files.move(aside.resolve(t.getFileName()), t);
            }
        }
        verifybackup(dir, null);
        PgCluster copy = startCopy(dir);
        assertThat(fingerprints(copy)).isEqualTo(atIncr);
        assertThat(fingerprint(copy, "still")).isEqualTo(still);
        amcheck(copy);
        copy.stop();

        // A page of a table the incremental does not touch changed in the copy: caught by the checksum, rewritten from the full.
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve(stillFile).toFile(), "rw")) {
            f.seek(8192 - 40);
            f.write("ZZZZZZZZ".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        plan = pg.restorePlanner().plan(request(incr.id(), dir, new RecoveryTarget.Immediate()).withDelta(true));
        assertThat(plan.filesToWrite()).contains("rewrite changed blocks of " + stillFile)
                .anyMatch(l -> l.startsWith("files that differ get the newer backups' blocks first"));
        pg.restorePlanner().execute(plan);
        verifybackup(dir, null);
        PgCluster rewound = startCopy(dir);
        assertThat(fingerprint(rewound, "still")).isEqualTo(still);
        assertThat(fingerprints(rewound)).isEqualTo(atIncr);
        amcheck(rewound);
    }
}
