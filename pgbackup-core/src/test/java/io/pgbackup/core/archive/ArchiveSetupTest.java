package io.pgbackup.core.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.archive.ArchiveSetup.InitResult.ScriptInstall;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code init} without a live cluster: layout, script installation, idempotence, reporting. */
class ArchiveSetupTest {
    @TempDir
    Path work;

    @Test
    void createsAnOwnerOnlyLayoutAndExecutableScripts() throws Exception {
        Path dir = work.resolve("backups");

        InitResult result = init(PgBackupConfig.builder().backupDir(dir).build());

        Repository repository = new Repository(dir);
        assertThat(result.createdDirectories()).containsExactly(dir, repository.baseDir(), repository.walArchiveDir(),
                repository.scriptsDir(), repository.logsDir());
        for (Path d : result.createdDirectories()) {
            assertThat(Files.getPosixFilePermissions(d)).as(d.toString()).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        }
        assertThat(result.scripts()).containsExactly(
                new ScriptInstall(repository.archiveScript(), ScriptInstall.State.INSTALLED),
                new ScriptInstall(repository.restoreScript(), ScriptInstall.State.INSTALLED));
        for (ScriptInstall script : result.scripts()) {
            assertThat(Files.getPosixFilePermissions(script.path())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
            assertThat(Files.readString(script.path())).startsWith("#!/bin/sh\n");
        }
        assertThat(Files.list(repository.scriptsDir()).count()).as("no temporary files left").isEqualTo(2);
        assertThat(result.archiveCommand()).isEqualTo(dir + "/scripts/archive_wal.sh %p %f");
        assertThat(result.restoreCommand()).isEqualTo(dir + "/scripts/restore_wal.sh %f %p");
        assertThat(result.configLines()).containsExactly(
                "wal_level = replica",
                "archive_mode = on",
                "archive_command = '" + dir + "/scripts/archive_wal.sh %p %f'",
                "archive_timeout = 300",
                "max_wal_senders = 10");
        assertThat(result.alterSystemStatements()).containsExactly(
                "ALTER SYSTEM SET wal_level = 'replica';",
                "ALTER SYSTEM SET archive_mode = 'on';",
                "ALTER SYSTEM SET archive_command = '" + dir + "/scripts/archive_wal.sh %p %f';",
                "ALTER SYSTEM SET archive_timeout = 300;",
                "ALTER SYSTEM SET max_wal_senders = 10;");
        assertThat(result.remoteTarget()).isEmpty();
    }

    @Test
    void aSecondRunChangesNothing() throws Exception {
        PgBackupConfig config = PgBackupConfig.builder().backupDir(work.resolve("backups")).build();
        InitResult first = init(config);
        Map<Path, FileTime> mtimes = new java.util.HashMap<>();
        Map<Path, String> texts = new java.util.HashMap<>();
        for (ScriptInstall s : first.scripts()) {
            mtimes.put(s.path(), Files.getLastModifiedTime(s.path()));
            texts.put(s.path(), Files.readString(s.path()));
        }

        InitResult second = init(config);

        assertThat(second.createdDirectories()).isEmpty();
        assertThat(second.scripts()).extracting(ScriptInstall::state)
                .containsOnly(ScriptInstall.State.UNCHANGED);
        assertThat(second.scriptsChanged()).isFalse();
        for (ScriptInstall s : second.scripts()) {
            assertThat(Files.getLastModifiedTime(s.path())).isEqualTo(mtimes.get(s.path()));
            assertThat(Files.readString(s.path())).isEqualTo(texts.get(s.path()));
        }
    }

    @Test
    void reinstallsTheArchiveScriptWhenTheConfigurationChanges() throws Exception {
        Path dir = work.resolve("backups");
        init(PgBackupConfig.builder().backupDir(dir).build());

        InitResult withRemote = init(PgBackupConfig.builder().backupDir(dir)
                .remote("backup.example.com", "backupuser", "/srv/pg backups", 2222).build());

        Repository repository = new Repository(dir);
        assertThat(withRemote.scripts()).containsExactly(
                new ScriptInstall(repository.archiveScript(), ScriptInstall.State.UPDATED),
                new ScriptInstall(repository.restoreScript(), ScriptInstall.State.UNCHANGED));
        assertThat(withRemote.remoteTarget()).isEqualTo("backupuser@backup.example.com:/srv/pg backups/wal_archive/");
        assertThat(withRemote.remotePort()).isEqualTo(2222);
        assertThat(Files.readString(repository.archiveScript()))
                .contains("REMOTE_HOST='backup.example.com'", "REMOTE_DIR='/srv/pg backups'", "REMOTE_PORT='2222'");
        assertThat(Files.getPosixFilePermissions(repository.archiveScript()))
                .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void repairsAScriptWhoseModeWasChanged() throws Exception {
        PgBackupConfig config = PgBackupConfig.builder().backupDir(work.resolve("backups")).build();
        InitResult first = init(config);
        Path script = first.scripts().get(0).path();
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-------"));

        InitResult second = init(config);

        assertThat(second.scripts().get(0).state()).isEqualTo(ScriptInstall.State.UPDATED);
        assertThat(Files.isExecutable(script)).isTrue();
    }

    @Test
    void anUnconfiguredClusterIsReportedNotThrown() {
        InitResult result = init(PgBackupConfig.builder().backupDir(work.resolve("backups")).database("postgres").build());

        assertThat(result.cluster().reachable()).isFalse();
        assertThat(result.cluster().message()).contains("PG_USER_NAME is not set");
        assertThat(result.settings()).isEmpty();
        assertThat(result.clusterReady()).isFalse();
        assertThat(result.restartNeeded()).isFalse();
    }

    @Test
    void anUnreachableClusterIsReportedNotThrown() throws Exception {
        int closedPort = PgCluster.freePort();
        InitResult result = init(PgBackupConfig.builder().backupDir(work.resolve("backups"))
                .user("someone").password("pw").database("postgres").host("127.0.0.1").port(closedPort).build());

        assertThat(result.cluster().reachable()).isFalse();
        assertThat(result.cluster().message()).contains("cannot connect", "127.0.0.1:" + closedPort);
        assertThat(result.scripts()).hasSize(2);
    }

    @Test
    void noFileUnderTheBackupDirectoryHoldsThePassword() throws Exception {
        Path dir = work.resolve("backups");
        String password = "pw-never-on-disk-4711";
        init(PgBackupConfig.builder().backupDir(dir).user("someone").password(password).database("postgres")
                .port(PgCluster.freePort()).remote("backup.example.com", "u", "/r", 22).build());

        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(file, StandardCharsets.ISO_8859_1)).as(file.toString()).doesNotContain(password);
            }
        }
    }

    @Test
    void anAwkwardDirectoryNameSurvivesTheShellAndPostgresqlQuoting() throws Exception {
        Path dir = work.resolve("it's a \"$HOME\" `dir` 100% \\ back");
        InitResult result = init(PgBackupConfig.builder().backupDir(dir).build());
        Path source = work.resolve("pg_wal").resolve("000000010000000000000001");
        Files.createDirectories(source.getParent());
        Files.write(source, new byte[4096]);

        // What PostgreSQL does with archive_command: replace %p, %f and %%, then run it with sh -c.
        String command = result.archiveCommand().replace("%p", "pg_wal/000000010000000000000001")
                .replace("%f", "000000010000000000000001").replace("%%", "%");
        Sh.Result run = Sh.run(work, "/bin/sh", "-c", command);

        assertThat(run.exitCode()).as(command + ": " + run.stderr()).isZero();
        assertThat(new Repository(dir).walArchiveDir().resolve("000000010000000000000001.gz")).exists();
        // Double quotes for sh (with \\ \" \$ \` escaped), %% for PostgreSQL's placeholders, then
        // postgresql.conf's own quoting: '' for a quote and \\ for a backslash.
        assertThat(result.configLines().get(2)).isEqualTo("archive_command = '\"" + work
                + "/it''s a \\\\\"\\\\$HOME\\\\\" \\\\`dir\\\\` 100%% \\\\\\\\ back/scripts/archive_wal.sh\" %p %f'");
    }

    @Test
    void aMissingBackupDirectoryIsAConfigurationError() {
        assertThatThrownBy(() -> init(PgBackupConfig.builder().build()))
                .isInstanceOfSatisfying(PgBackupException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessageContaining("PG_BACKUP_DIR");
    }

    @Test
    void theScriptsAreSmallPosixShellWithoutBashisms() throws Exception {
        InitResult result = init(PgBackupConfig.builder().backupDir(work.resolve("backups")).build());
        for (ScriptInstall script : result.scripts()) {
            // dash -n parses without running: a syntax error would only surface when PostgreSQL calls it.
            Sh.Result parse = Sh.run(work, "dash", "-n", script.path().toString());
            assertThat(parse.exitCode()).as(parse.stderr()).isZero();
            assertThat(Files.readString(script.path())).doesNotContain("[[", "pipefail", "@@");
        }
    }

    private static InitResult init(PgBackupConfig config) {
        return PgBackup.create(config).archiveSetup().init();
    }
}
