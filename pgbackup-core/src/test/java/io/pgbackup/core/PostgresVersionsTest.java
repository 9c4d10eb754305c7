package io.pgbackup.core;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.internal.incremental.ChainReader;
import io.pgbackup.core.restore.RecoveryTarget;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestoreRequest;
import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.PgVersions;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyReport.VerifyCheck;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every PostgreSQL major the README promises: servers from the machine (its own major) or from the
 * zonky jars the build copies (see {@link PgVersions}), client programs from the machine or from
 * PGBACKUP_TEST_PG_CLIENT_BIN. Backups speak the replication protocol themselves, so every major
 * goes through the whole cycle whatever the machine's client programs are.
 */
class PostgresVersionsTest {
    @TempDir
    Path work;

    static Stream<Integer> supported() {
        return PgVersions.SUPPORTED.stream();
    }

    @ParameterizedTest(name = "PostgreSQL {0}")
    @MethodSource("supported")
    void archiveBackupVerifyAndRestoreToATime(int major) throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work, major)) {
            PgCluster cluster = source.cluster();
            assertThat(cluster.queryLong("SELECT current_setting('server_version_num')::int / 10000")).isEqualTo(major);
            PgBackup pg = source.pgBackup();
            cluster.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)",
                    "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 1000) g");
            // From 17 on the incr below comes from the server's WAL summaries (UPLOAD_MANIFEST + BASE_BACKUP INCREMENTAL).
            boolean summaries = major >= 17;
            if (summaries) {
                cluster.execute("ALTER SYSTEM SET summarize_wal = on", "SELECT pg_reload_conf()");
                PgCluster.await(Duration.ofMinutes(1), "summarize_wal on",
                        () -> "on".equals(cluster.queryString("SHOW summarize_wal")));
            }

            // zstd is the version-dependent path: the server compresses from 15 on, pgbackup before.
            BackupInfo backup = pg.backups().backup(BackupOptions.defaults().withCompression(Compression.ZSTD));
            assertThat(backup.manifest().postgresVersionNum() / 10000).isEqualTo(major);
            assertThat(backup.manifest().file("base.tar.zst")).isPresent();
            // PostgreSQL writes backup_manifest from 13 on.
            assertThat(backup.manifest().file("backup_manifest").isPresent()).isEqualTo(major >= 13);

            cluster.execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(1001, 1500) g");
            if (summaries) {
                // The summarizer runs behind the WAL: wait until a summary reaches back to the full's start.
                PgCluster.await(Duration.ofMinutes(1), "a WAL summary from the full's start", () -> cluster.queryLong(
                        "SELECT count(*) FROM pg_available_wal_summaries() WHERE start_lsn <= '"
                                + backup.manifest().startLsn() + "'") > 0);
            }
            // An incr on every major (the page-LSN path): only changed pages, and each file rebuilds as the server sent it.
            BackupInfo incr = pg.backups().backup(BackupOptions.defaults().withCompression(Compression.ZSTD)
                    .withType(io.pgbackup.core.backup.BackupType.INCR));
            assertThat(incr.manifest().type()).isEqualTo("incr");
            assertThat(incr.manifest().chain()).containsExactly(backup.id());
            assertThat(incr.manifest().incrementalMethod()).isEqualTo(summaries ? "summaries" : "page-lsn");
            if (summaries) {
                // The server sent INCREMENTAL files itself (its backup_manifest names them so); the restore below rebuilds them.
                assertThat(ChainReader.files(source.repository(), incr).keySet()).anyMatch(p -> p.contains("/INCREMENTAL."));
                assertThat(storedBytes(incr, "base.tar")).isLessThan(storedBytes(backup, "base.tar") / 4);
                // summarize_wal off: no summaries path, and page LSNs cannot work against a summaries parent: a full.
                cluster.execute("ALTER SYSTEM SET summarize_wal = off", "SELECT pg_reload_conf()");
                PgCluster.await(Duration.ofMinutes(1), "summarize_wal off",
                        () -> "off".equals(cluster.queryString("SHOW summarize_wal")));
                io.pgbackup.core.backup.BackupPlan fallback = pg.backups().plan(BackupOptions.defaults()
                        .withType(io.pgbackup.core.backup.BackupType.INCR));
                assertThat(fallback.isFull()).as(fallback.describe()).isTrue();
                assertThat(fallback.reason()).contains("made from WAL summaries");
                // Taken anyway: that full, then an incr on it by page LSNs, each saying why summaries were not used.
                BackupInfo refull = pg.backups().backup(BackupOptions.defaults().withType(io.pgbackup.core.backup.BackupType.INCR));
                assertThat(refull.manifest().type()).isEqualTo("full");
                cluster.execute("INSERT INTO orders SELECT g, 'later ' || g FROM generate_series(1501, 1600) g");
                StringBuilder said = new StringBuilder();
                BackupInfo byLsn = withStderrTo(said, () -> pg.backups().backup(BackupOptions.defaults()
                        .withType(io.pgbackup.core.backup.BackupType.INCR)));
                assertThat(byLsn.manifest().type()).isEqualTo("incr");
                assertThat(byLsn.manifest().incrementalMethod()).isEqualTo("page-lsn");
                assertThat(said).contains("not using WAL summaries: summarize_wal is off on the server");
                assertThat(ChainReader.mismatches(source.repository(), List.of(refull, byLsn))).isEmpty();
            } else {
                assertThat(ChainReader.mismatches(source.repository(), List.of(backup, incr))).isEmpty();
            }
            OffsetDateTime target = source.serverNow();
            String atTarget = fingerprint(cluster, "orders");
            cluster.execute("UPDATE orders SET item = 'changed' WHERE id <= 100", "DROP TABLE orders");
            String lastSegment = source.switchAndAwaitArchived();

            StatusReport status = pg.status().report();
            assertThat(status.cluster().reachable()).as(status.toString()).isTrue();
            assertThat(status.cluster().archiver().lastArchivedWal()).isGreaterThanOrEqualTo(lastSegment);
            assertThat(status.cluster().archiver().failedCount()).isZero();

            VerifyReport plain = pg.verifier().verify(VerifyRequest.of(backup.id()));
            assertThat(plain.ok()).as(plain.toString()).isTrue();
            BackupVerdict verdict = plain.backups().get(0);
            assertThat(check(verdict, "backup_manifest").detail())
                    .contains(major >= 13 ? "Manifest-Checksum matches" : "not in this backup (PostgreSQL before 13)");
            assertThat(check(verdict, "wal archive").detail()).contains(lastSegment);

            // The restore test starts PG_BIN's server: this version's, or the copy would not start.
            VerifyReport restoreTested = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true)
                    .withRestoreTestDir(work.resolve("restore-test")));
            assertThat(restoreTested.ok()).as(restoreTested.toString()).isTrue();
            String restoreTest = check(restoreTested.backups().get(0), "restore test").detail();
            assertThat(restoreTest).contains("recovered and promoted")
                    .contains(major >= 14 ? "pg_amcheck --all found no corruption"
                            : "pg_amcheck skipped (PostgreSQL " + major + " has no verify_heapam; it came in 14)");

            cluster.stop();
            Path restored = work.resolve("restored");
            // From 17 on the restore goes through the chain (full + the summaries incr), then WAL to the time.
            RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(summaries ? incr.id() : backup.id()),
                    new RecoveryTarget.Time(target), TargetAction.PROMOTE, Optional.of(restored), false));
            pg.restorePlanner().execute(plan);
            assertThat(Files.readString(restored.resolve("PG_VERSION")).strip()).isEqualTo(String.valueOf(major));
            try (PgCluster copy = PgCluster.startExisting(cluster.programs(), restored, work.resolve("run-restored"),
                    cluster.password(), Map.of("archive_mode", "off"))) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(copy.queryLong("SELECT current_setting('server_version_num')::int / 10000")).isEqualTo(major);
                assertThat(fingerprint(copy, "orders")).isEqualTo(atTarget);
            }
        }
    }

    /** zonky's PostgreSQL 15 is built without zstd and refuses server-zstd: pgbackup compresses on its side instead. */
    @Test
    void zstdForAServerBuiltWithoutItIsCompressedByPgbackup() throws Exception {
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"), PgVersions.bundled(15), Map.of())) {
            assertThat(cluster.queryString("SELECT enumvals::text FROM pg_settings WHERE name = 'wal_compression'"))
                    .doesNotContain("zstd");
            PgBackup pg = PgBackup.create(cluster.config(work.resolve("repo")));
            pg.archiveSetup().init();
            BackupInfo backup = pg.backups().backup(BackupOptions.defaults().withCompression(Compression.ZSTD));
            assertThat(backup.manifest().file("base.tar.zst")).isPresent();
            BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id())).backups().get(0);
            assertThat(check(verdict, "base.tar.zst").ok()).as(verdict.toString()).isTrue();
            assertThat(check(verdict, "backup_manifest").ok()).as(verdict.toString()).isTrue();
        }
    }

    private static long storedBytes(BackupInfo backup, String stem) {
        return backup.manifest().files().stream().filter(f -> f.name().startsWith(stem))
                .mapToLong(io.pgbackup.core.backup.BackupManifest.BackupFile::size).sum();
    }

    private static VerifyCheck check(BackupVerdict verdict, String name) {
        return verdict.checks().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseGet(() -> fail("no check " + name + " in " + verdict.checks()));
    }

    /** Runs {@code action} with what is logged to stderr (slf4j-simple) copied into {@code said} too. */
    private static <T> T withStderrTo(StringBuilder said, java.util.concurrent.Callable<T> action) throws Exception {
        java.io.PrintStream original = System.err;
        java.io.ByteArrayOutputStream copy = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                original.write(b);
                copy.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                original.write(b, off, len);
                copy.write(b, off, len);
            }
        }, true));
        try {
            return action.call();
        } finally {
            System.setErr(original);
            said.append(copy.toString(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
