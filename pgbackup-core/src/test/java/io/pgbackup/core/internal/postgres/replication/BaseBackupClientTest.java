package io.pgbackup.core.internal.postgres.replication;

import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The streaming base-backup client against real PostgreSQL clusters, checked with pg_verifybackup and a restore. */
class BaseBackupClientTest {
    private static final Duration TOOL_LIMIT = Duration.ofMinutes(3);

    @TempDir
    static Path clusterDir;
    static PgCluster cluster;

    @TempDir
    Path work;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = PgCluster.create(clusterDir);
        cluster.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int, filler text)",
                "INSERT INTO accounts SELECT g, g % 1000, repeat('x', 80) FROM generate_series(1, 100000) g");
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    private static ReplicationSettings tcp(PgCluster c) {
        return new ReplicationSettings("127.0.0.1", c.port(), PgCluster.SUPERUSER, Optional.of(c.password()));
    }

    @Test
    void backupOverTcpVerifiesWithPgVerifybackupAndRestores() throws Exception {
        FileSink sink = new FileSink(work.resolve("backup"));

        BaseBackupResult r = new BaseBackupClient(tcp(cluster))
                .run(new BaseBackupRequest("pgbackup test", true, Optional.empty()), sink);

        assertThat(sink.names()).containsExactlyInAnyOrder("base.tar", "pg_wal.tar", "backup_manifest");
        assertThat(sink.archives).containsExactly(new ArchiveStart("base.tar", 0, ""));
        assertThat(r.serverVersionNum()).isEqualTo(cluster.queryLong("SHOW server_version_num"));
        assertThat(r.systemIdentifier())
                .isEqualTo(cluster.queryString("SELECT system_identifier::text FROM pg_control_system()"));
        assertThat(r.walSegmentSize()).isEqualTo(16 * 1024 * 1024);
        assertThat(r.startTimeline()).isEqualTo(1);
        assertThat(r.endTimeline()).isEqualTo(1);
        assertThat(r.endLsn()).isGreaterThan(r.startLsn());
        assertThat(r.tablespaces()).isEmpty();
        assertThat(r.inRecovery()).isFalse();
        assertThat(sink.lastDone).isPositive();
        // As pg_basebackup -Ft writes them: complete tar files, WAL as whole segments.
        byte[] base = Files.readAllBytes(sink.dir.resolve("base.tar"));
        assertThat(base.length % 512).isZero();
        assertThat(Arrays.copyOfRange(base, base.length - 1024, base.length)).containsOnly((byte) 0);
        assertThat(tarList(sink.dir.resolve("pg_wal.tar"))).isNotEmpty()
                .allMatch(line -> line.matches("[0-9A-F]{24}|archive_status/[0-9A-F]{24}\\.done"));
        assertThat(tarList(sink.dir.resolve("pg_wal.tar")))
                .contains(WalTarWriter.segmentFileName(1, r.startLsn().value() / r.walSegmentSize(), r.walSegmentSize()));
        assertThat(tarList(sink.dir.resolve("base.tar"))).contains("backup_label", "tablespace_map", "PG_VERSION",
                "global/pg_control");

        Path restored = restore(sink, Map.of());
        verify(restored);
        try (PgCluster copy = PgCluster.startExisting(restored, work.resolve("run"), cluster.password())) {
            assertThat(copy.queryLong("SELECT count(*) FROM accounts")).isEqualTo(100000);
            assertThat(copy.queryLong("SELECT sum(balance) FROM accounts"))
                    .isEqualTo(cluster.queryLong("SELECT sum(balance) FROM accounts"));
        }
    }

    @Test
    void eachTablespaceGetsItsOwnArchiveAndTheBackupVerifiesWithTheTablespaceElsewhere() throws Exception {
        Path tablespaceDir = Files.createDirectories(work.resolve("ts"));
        try (PgCluster c = PgCluster.create(work.resolve("cluster"))) {
            c.execute("CREATE TABLESPACE extra LOCATION '" + tablespaceDir + "'",
                    "CREATE TABLE far (id int, v text) TABLESPACE extra",
                    "INSERT INTO far SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
            long oid = c.queryLong("SELECT oid FROM pg_tablespace WHERE spcname = 'extra'");
            FileSink sink = new FileSink(work.resolve("backup"));

            BaseBackupResult r = new BaseBackupClient(tcp(c))
                    .run(new BaseBackupRequest("with tablespace", true, Optional.empty()), sink);

            assertThat(sink.archives).containsExactly(new ArchiveStart(oid + ".tar", oid, tablespaceDir.toString()),
                    new ArchiveStart("base.tar", 0, ""));
            assertThat(r.tablespaces()).hasSize(1);
            assertThat(r.tablespaces().get(0).oid()).isEqualTo(oid);
            assertThat(r.tablespaces().get(0).location()).isEqualTo(tablespaceDir.toString());
            assertThat(tarList(sink.dir.resolve(oid + ".tar"))).anyMatch(e -> e.startsWith("PG_15_"));
            assertThat(Files.readString(extractOne(sink.dir.resolve("base.tar"), "tablespace_map")))
                    .isEqualTo(oid + " " + tablespaceDir + "\n");

            // the tablespace moves: pg_verifybackup follows pg_tblspc/<oid> to wherever it now is
            Path moved = privateDir(work.resolve("moved-ts"));
            Path restored = restore(sink, Map.of(oid + ".tar", moved));
            Files.createSymbolicLink(restored.resolve("pg_tblspc").resolve(String.valueOf(oid)), moved);
            verify(restored);
        }
    }

    @Test
    void aWrongPasswordFailsWithTheServersOneLineMessageAndNeverShowsThePassword() {
        String password = "wrong-" + UUID.randomUUID();
        ReplicationSettings settings = new ReplicationSettings("127.0.0.1", cluster.port(), PgCluster.SUPERUSER,
                Optional.of(password));
        assertThat(settings.toString()).doesNotContain(password);

        assertThatThrownBy(() -> new BaseBackupClient(settings)
                .run(new BaseBackupRequest("x", true, Optional.empty()), new FileSink(work.resolve("b"))))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo(
                            "FATAL: password authentication failed for user \"" + PgCluster.SUPERUSER + "\"");
                    assertThat(e.sqlState()).contains("28P01");
                    assertThat(e.toString()).doesNotContain(password);
                });
        assertThat(work.resolve("b")).doesNotExist();
    }

    @Test
    void backupOverTheUnixSocketWithTrust() throws Exception {
        ReplicationSettings socket = new ReplicationSettings(cluster.socketDir().toString(), cluster.port(),
                PgCluster.SUPERUSER, Optional.empty());
        FileSink sink = new FileSink(work.resolve("backup"));

        BaseBackupResult r = new BaseBackupClient(socket)
                .run(new BaseBackupRequest("socket", true, Optional.empty()), sink);

        assertThat(sink.names()).containsExactlyInAnyOrder("base.tar", "pg_wal.tar", "backup_manifest");
        assertThat(r.endLsn()).isGreaterThan(r.startLsn());
        verify(restore(sink, Map.of()));
    }

    @Test
    void serverSideZstdGivesArchivesThatZstdAndTarRead() throws Exception {
        FileSink sink = new FileSink(work.resolve("backup"));

        new BaseBackupClient(tcp(cluster))
                .run(new BaseBackupRequest("zstd", true, Optional.of("zstd:level=3,workers=2")), sink);

        assertThat(sink.names()).containsExactlyInAnyOrder("base.tar.zst", "pg_wal.tar", "backup_manifest");
        assertThat(sink.archives).containsExactly(new ArchiveStart("base.tar.zst", 0, ""));
        PgCluster.run(List.of("zstd", "-q", "-d", sink.dir.resolve("base.tar.zst").toString(), "-o",
                sink.dir.resolve("base.tar").toString()), TOOL_LIMIT);
        Files.delete(sink.dir.resolve("base.tar.zst"));
        verify(restore(sink, Map.of()));
    }

    @Test
    void aFailingSinkFailsTheBackupAndLeavesNoThreadNorSlot() throws Exception {
        FileSink sink = new FileSink(work.resolve("backup")) {
            @Override
            public OutputStream archive(ArchiveStart a) throws IOException {
                return new FilterOutputStream(super.archive(a)) {
                    long written;

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        written += len;
                        if (written > 1024 * 1024) {
                            throw new IOException("disk full (test)");
                        }
                        out.write(b, off, len);
                    }
                };
            }
        };

        assertThatThrownBy(() -> new BaseBackupClient(tcp(cluster))
                .run(new BaseBackupRequest("fails", true, Optional.empty()), sink))
                .isInstanceOf(IOException.class).hasMessage("disk full (test)");

        assertNoLeftovers();
    }

    @Test
    void cancelEndsARunningBackup() throws Exception {
        BaseBackupClient client = new BaseBackupClient(tcp(cluster));
        FileSink sink = new FileSink(work.resolve("backup")) {
            @Override
            public OutputStream archive(ArchiveStart a) throws IOException {
                client.cancel(); // as another thread would, while the data flows
                return super.archive(a);
            }
        };

        assertThatThrownBy(() -> client.run(new BaseBackupRequest("cancelled", true, Optional.empty()), sink))
                .isInstanceOf(InterruptedIOException.class).hasMessageContaining("cancelled");

        assertNoLeftovers();
    }

    @Test
    void aFailingWalStreamFailsTheBackupWithItsOwnError() throws Exception {
        FileSink sink = new FileSink(work.resolve("backup")) {
            @Override
            public OutputStream walArchive() {
                return new OutputStream() {
                    @Override
                    public void write(int b) throws IOException {
                        throw new IOException("WAL disk full (test)");
                    }
                };
            }
        };

        assertThatThrownBy(() -> new BaseBackupClient(tcp(cluster))
                .run(new BaseBackupRequest("wal fails", true, Optional.empty()), sink))
                .isInstanceOf(IOException.class).hasMessage("WAL disk full (test)");

        assertNoLeftovers();
    }

    @Test
    void anInterruptEndsTheBackupAndKeepsTheInterruptStatus() throws Exception {
        FileSink sink = new FileSink(work.resolve("backup")) {
            @Override
            public OutputStream archive(ArchiveStart a) throws IOException {
                Thread.currentThread().interrupt(); // as Future.cancel(true) would, mid-backup
                return super.archive(a);
            }
        };
        try {
            assertThatThrownBy(() -> new BaseBackupClient(tcp(cluster))
                    .run(new BaseBackupRequest("interrupted", true, Optional.empty()), sink))
                    .isInstanceOf(InterruptedIOException.class).hasMessageContaining("interrupted");
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }

        assertNoLeftovers();
    }

    private static void assertNoLeftovers() throws Exception {
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("pgbackup-wal-stream"));
        // the temporary slot goes with its walsender, which ends a moment after the socket closes
        PgCluster.await(Duration.ofSeconds(30), "walsenders and the temporary slot to go", () ->
                cluster.queryLong("SELECT count(*) FROM pg_replication_slots") == 0
                        && cluster.queryLong("SELECT count(*) FROM pg_stat_replication") == 0
                        && cluster.queryLong("SELECT count(*) FROM pg_stat_progress_basebackup") == 0);
    }

    /** Extracts base.tar (and tablespace archives into their given directories), pg_wal.tar into pg_wal, and places the manifest. */
    private Path restore(FileSink sink, Map<String, Path> tablespaceTargets) throws IOException {
        Path dir = privateDir(work.resolve("restored"));
        untar(sink.dir.resolve("base.tar"), dir);
        untar(sink.dir.resolve("pg_wal.tar"), dir.resolve("pg_wal"));
        for (Map.Entry<String, Path> e : tablespaceTargets.entrySet()) {
            untar(sink.dir.resolve(e.getKey()), e.getValue());
        }
        Files.copy(sink.dir.resolve("backup_manifest"), dir.resolve("backup_manifest"));
        return dir;
    }

    private static void verify(Path dir) throws IOException {
        PgCluster.run(List.of(PgCluster.binaries().tool("pg_verifybackup").toString(), "-m",
                dir.resolve("backup_manifest").toString(), dir.toString()), TOOL_LIMIT);
    }

    private static Path privateDir(Path dir) throws IOException {
        return Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    private static void untar(Path tar, Path into) throws IOException {
        Files.createDirectories(into);
        PgCluster.run(List.of("tar", "-xf", tar.toString(), "-C", into.toString()), TOOL_LIMIT);
    }

    private static List<String> tarList(Path tar) throws IOException {
        return PgCluster.run(List.of("tar", "-tf", tar.toString()), TOOL_LIMIT).lines().toList();
    }

    private Path extractOne(Path tar, String entry) throws IOException {
        Path dir = Files.createDirectories(work.resolve("one-" + UUID.randomUUID()));
        PgCluster.run(List.of("tar", "-xf", tar.toString(), "-C", dir.toString(), entry), TOOL_LIMIT);
        return dir.resolve(entry);
    }
}
