package io.pgbackup.core.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;
import io.pgbackup.core.archive.ArchiveSetup.InitResult.SettingCheck;
import io.pgbackup.core.archive.ArchiveSetup.InitResult.ScriptInstall;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** {@code init} against a real cluster, and PostgreSQL archiving through the installed script. */
class ArchiveSetupClusterTest {
    @TempDir
    Path work;

    @Test
    void reportsWhichSettingsTheLiveClusterHasAndWhichAreMissingOrDifferent() throws Exception {
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"), Map.of("archive_timeout", "60"))) {
            InitResult result = PgBackup.create(cluster.config(work.resolve("backups"))).archiveSetup().init();

            assertThat(result.cluster().reachable()).as(result.cluster().message()).isTrue();
            assertThat(result.cluster().serverVersion()).isNotBlank();
            assertThat(result.settings())
                    .extracting(SettingCheck::name, SettingCheck::actual, SettingCheck::status, SettingCheck::needsRestart)
                    .containsExactly(
                            tuple("wal_level", "replica", SettingCheck.Status.OK, true),
                            tuple("archive_mode", "off", SettingCheck.Status.MISSING, true),
                            // PostgreSQL shows the command as "(disabled)" while archive_mode is off.
                            tuple("archive_command", "(disabled)", SettingCheck.Status.MISSING, false),
                            tuple("archive_timeout", "60", SettingCheck.Status.DIFFERENT, false),
                            tuple("max_wal_senders", "10", SettingCheck.Status.OK, true));
            assertThat(result.restartNeeded()).isTrue();
            assertThat(result.clusterReady()).isFalse();
        }
    }

    @Test
    void postgresArchivesThroughTheInstalledScriptOnceThePrintedSettingsAreApplied() throws Exception {
        // archive_mode needs a restart, so the cluster starts with it; init supplies the rest.
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"), Map.of("archive_mode", "on"))) {
            Path backupDir = work.resolve("backup dir");
            ArchiveSetup setup = PgBackup.create(cluster.config(backupDir)).archiveSetup();
            InitResult first = setup.init();
            assertThat(first.settings()).filteredOn(SettingCheck::ok).extracting(SettingCheck::name)
                    .containsExactly("wal_level", "archive_mode", "max_wal_senders");

            // The printed postgresql.conf lines, verbatim, through PostgreSQL's own parser.
            Files.writeString(cluster.dataDir().resolve("postgresql.conf"),
                    "\n" + String.join("\n", first.configLines()) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            cluster.execute("SELECT pg_reload_conf()");
            AtomicReference<InitResult> again = new AtomicReference<>();
            PgCluster.await(Duration.ofSeconds(30), "the reloaded settings to be reported OK", () -> {
                again.set(setup.init());
                return again.get().clusterReady();
            });
            assertThat(again.get().scripts()).extracting(ScriptInstall::state).containsOnly(ScriptInstall.State.UNCHANGED);
            assertThat(again.get().createdDirectories()).isEmpty();

            String segment = cluster.switchWal();

            Path archived = new Repository(backupDir).walArchiveDir().resolve(segment + ".gz");
            PgCluster.await(Duration.ofSeconds(60), segment + " in the archive (server log: " + cluster.logFile() + ")",
                    () -> Files.exists(archived));
            assertThat(ArchiveWalScriptTest.gunzip(archived)).hasSize(16 * 1024 * 1024);
            assertThat(Files.readString(new Repository(backupDir).walArchiveLog()))
                    .contains(" INFO " + segment + " archived size=16777216 ");
            assertThat(cluster.queryLong("SELECT failed_count FROM pg_stat_archiver")).isZero();
        }
    }

    @Test
    void alterSystemStatementsAreAnEquivalentAlternative() throws Exception {
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"), Map.of("archive_mode", "on"))) {
            Path backupDir = work.resolve("it's a \"$dir\" 100%");
            ArchiveSetup setup = PgBackup.create(cluster.config(backupDir)).archiveSetup();
            InitResult first = setup.init();

            cluster.execute(first.alterSystemStatements().toArray(String[]::new));
            cluster.execute("SELECT pg_reload_conf()");
            PgCluster.await(Duration.ofSeconds(30), "the ALTER SYSTEM settings to be reported OK",
                    () -> setup.init().clusterReady());

            String segment = cluster.switchWal();
            Path archived = new Repository(backupDir).walArchiveDir().resolve(segment + ".gz");
            PgCluster.await(Duration.ofSeconds(60), segment + " in the archive (server log: " + cluster.logFile() + ")",
                    () -> Files.exists(archived));
        }
    }
}
