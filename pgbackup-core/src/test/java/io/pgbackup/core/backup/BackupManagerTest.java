package io.pgbackup.core.backup;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupManagerTest {
    @TempDir
    static Path clusterDir;
    static PgCluster cluster;

    @TempDir
    Path work;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = PgCluster.create(clusterDir);
        cluster.execute("CREATE TABLE t (id int primary key, v text)",
                "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g");
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    private PgBackup pgBackup(PgBackupConfig config) throws IOException {
        new Repository(config.requireBackupDir()).createLayout();
        return PgBackup.create(config);
    }

    @Test
    void backupWritesCompressedTarsBothManifestsAndAppearsInList() throws Exception {
        Path repo = work.resolve("repo");
        PgBackup pg = pgBackup(cluster.config(repo));

        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());

        assertThat(Path.of(backup.location())).isEqualTo(repo.resolve("base").resolve(backup.id()));
        assertThat(backup.id()).matches("\\d{8}_\\d{6}");
        try (Stream<Path> files = Files.list(Path.of(backup.location()))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("base.tar.gz", "pg_wal.tar.gz", "backup_manifest", "pgbackup_manifest.json");
        }
        // The whole cluster's data: owner-only whatever the umask, like pg_basebackup's own files.
        for (String stored : List.of("base.tar.gz", "pg_wal.tar.gz", "backup_manifest", "pgbackup_manifest.json")) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(Path.of(backup.location()).resolve(stored)))).as(stored).isEqualTo("rw-------");
        }
        BackupManifest m = backup.manifest();
        assertThat(m.systemIdentifier()).isEqualTo(cluster.queryString("SELECT system_identifier::text FROM pg_control_system()"));
        assertThat(m.postgresVersionNum()).isEqualTo(cluster.queryLong("SHOW server_version_num"));
        assertThat(m.timeline()).isEqualTo(1);
        assertThat(m.startWalFile()).matches("[0-9A-F]{24}");
        assertThat(m.stopWalFile()).isGreaterThanOrEqualTo(m.startWalFile());
        assertThat(m.compression()).isEqualTo("gzip");
        assertThat(m.databaseSizeBytes()).isPositive();
        assertThat(m.endTime()).isAfterOrEqualTo(m.startTime());
        for (BackupManifest.BackupFile f : m.files()) {
            BackupManifest.BackupFile actual = io.pgbackup.core.testing.RepositoryFixtures.describe(Path.of(backup.location()).resolve(f.name()));
            assertThat(actual).as(f.name()).isEqualTo(f);
        }
        // Plain tar reads what we wrote: the files are ordinary .tar.gz.
        String listing = PgCluster.run(List.of("tar", "-tzf", Path.of(backup.location()).resolve("base.tar.gz").toString()),
                Duration.ofMinutes(1));
        assertThat(listing).contains("PG_VERSION", "global/pg_control", "backup_label");

        assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(backup.id());
        assertThat(pg.backups().get(backup.id()).manifest()).isEqualTo(m);
        assertThat(Files.readString(repo.resolve("base").resolve(backup.id()).resolve("pgbackup_manifest.json")))
                .doesNotContain(cluster.password());
    }

    @Test
    void twoBackupsInOneSecondGetDistinctIdsAndListOldestFirst() throws Exception {
        PgBackup pg = pgBackup(cluster.config(work.resolve("repo")));
        BackupInfo first = pg.backups().backup(BackupOptions.defaults());
        BackupInfo second = pg.backups().backup(BackupOptions.defaults());
        assertThat(second.id()).isGreaterThan(first.id());
        assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(first.id(), second.id());
        assertThat(pg.backups().latest()).map(BackupInfo::id).contains(second.id());
    }

    @Test
    void closedPortFailsWithOneLineAndLeavesBaseEmpty() throws Exception {
        Path repo = work.resolve("repo");
        PgBackup pg = pgBackup(cluster.config(repo).toBuilder().port(PgCluster.freePort()).build());
        assertThatThrownBy(() -> pg.backups().backup(BackupOptions.defaults()))
                .isInstanceOf(PgBackupException.class)
                .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.CONNECTION_FAILED))
                .hasMessageContaining("cannot connect")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(entries(repo.resolve("base"))).isEmpty();
    }

    @Test
    void wrongPasswordFailsWithoutLeakingEitherPassword() throws Exception {
        Path repo = work.resolve("repo");
        PgBackup pg = pgBackup(cluster.config(repo).toBuilder().password("not-the-password").build());
        assertThatThrownBy(() -> pg.backups().backup(BackupOptions.defaults()))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining("password authentication failed")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("not-the-password").doesNotContain(cluster.password()));
        assertThat(entries(repo.resolve("base"))).isEmpty();
    }

    @Test
    void aTablespaceOutsidePgdataIsBackedUpAsItsOwnArchiveAndRecordedInTheManifest(@TempDir Path otherDir) throws Exception {
        try (PgCluster withTablespace = PgCluster.create(otherDir.resolve("cluster"))) {
            Path location = Files.createDirectories(otherDir.resolve("tablespace"));
            withTablespace.execute("CREATE TABLESPACE outside LOCATION '" + location + "'",
                    "CREATE TABLE far (x int) TABLESPACE outside", "INSERT INTO far VALUES (1)");
            long oid = withTablespace.queryLong("SELECT oid FROM pg_tablespace WHERE spcname = 'outside'");
            Path repo = work.resolve("repo");
            PgBackup pg = pgBackup(withTablespace.config(repo));

            BackupInfo backup = pg.backups().backup(BackupOptions.defaults());

            assertThat(backup.manifest().tablespaces())
                    .containsExactly(new BackupManifest.Tablespace(oid, location.toString(), oid + ".tar.gz"));
            assertThat(backup.manifest().file(oid + ".tar.gz")).isPresent();
            assertThat(Path.of(backup.location()).resolve(oid + ".tar.gz")).isRegularFile();
            // read back from pgbackup_manifest.json, as list, status and restore see it
            assertThat(pg.backups().list()).singleElement()
                    .satisfies(b -> assertThat(b.manifest().tablespaces()).isEqualTo(backup.manifest().tablespaces()));
        }
    }

    @Test
    void aServerRefusingReplicationFailsInOneLineAndKeepsNothing(@TempDir Path otherDir) throws Exception {
        // A real server that accepts SQL but refuses replication connections.
        try (PgCluster noSenders = PgCluster.create(otherDir, Map.of("max_wal_senders", "0", "wal_level", "minimal"))) {
            Path repo = work.resolve("repo");
            PgBackup pg = pgBackup(noSenders.config(repo));
            assertThatThrownBy(() -> pg.backups().backup(BackupOptions.defaults()))
                    .isInstanceOf(PgBackupException.class)
                    .hasMessageStartingWith("backup failed: ")
                    .hasMessageContaining("max_wal_senders")
                    .hasMessageEndingWith("nothing was kept");
            assertThat(entries(repo.resolve("base"))).isEmpty();
            assertThat(pg.backups().list()).isEmpty();
        }
    }

    @Test
    void repositoryOfAnotherClusterIsRefused(@TempDir Path otherDir) throws Exception {
        Path repo = work.resolve("repo");
        pgBackup(cluster.config(repo)).backups().backup(BackupOptions.defaults());
        List<String> before = entries(repo.resolve("base"));
        try (PgCluster other = PgCluster.create(otherDir)) {
            PgBackup pg = PgBackup.create(other.config(repo));
            assertThatThrownBy(() -> pg.backups().backup(BackupOptions.defaults()))
                    .isInstanceOf(PgBackupException.class)
                    .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.REPOSITORY_CONFLICT))
                    .hasMessageContaining("holds backups of another cluster");
        }
        assertThat(entries(repo.resolve("base"))).isEqualTo(before);
    }

    @Test
    void aSecondBackupWhileTheLockIsHeldIsRefused() throws Exception {
        Path repo = work.resolve("repo");
        PgBackup pg = pgBackup(cluster.config(repo));
        try (var held = new io.pgbackup.core.internal.storage.Repository(repo).lease("backup", java.time.Clock.systemUTC())) {
            assertThatThrownBy(() -> pg.backups().backup(BackupOptions.defaults()))
                    .isInstanceOf(PgBackupException.class)
                    .satisfies(e -> assertThat(((PgBackupException) e).code()).isEqualTo(ErrorCode.LOCKED))
                    .hasMessageContaining("another pgbackup command holds the lock");
        }
        assertThat(entries(repo.resolve("base"))).isEmpty();
        assertThat(pg.backups().backup(BackupOptions.defaults()).id()).isNotBlank();
    }

    @Test
    void leftoverStagingFromAKilledBackupIsNeverListedAndIsRemovedByTheNextBackup() throws Exception {
        Path repo = work.resolve("repo");
        PgBackup pg = pgBackup(cluster.config(repo));
        Path stale = Files.createDirectories(repo.resolve("base/.staging-20200101_000000-1"));
        Files.writeString(stale.resolve("base.tar"), "partial");
        assertThat(pg.backups().list()).isEmpty();
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        assertThat(entries(repo.resolve("base"))).containsExactly(backup.id());
    }

    @Test
    void unknownIdIsAUsageErrorNamingTheExistingOnes() throws Exception {
        PgBackup pg = pgBackup(cluster.config(work.resolve("repo")));
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        assertThatThrownBy(() -> pg.backups().get("20000101_000000"))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining(backup.id())
                .satisfies(e -> assertThat(((PgBackupException) e).code().isUsageError()).isTrue());
    }

    @Test
    void noFileInTheRepositoryContainsThePassword() throws Exception {
        Path repo = work.resolve("repo");
        pgBackup(cluster.config(repo)).backups().backup(BackupOptions.defaults());
        byte[] secret = cluster.password().getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.walk(repo)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(indexOf(Files.readAllBytes(f), secret)).as(f.toString()).isEqualTo(-1);
            }
        }
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
