package io.pgbackup.examples;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The embedding example runs as documented against a real cluster that archives through pgbackup. */
class EmbeddedNightlyBackupTest {
    @TempDir
    Path work;

    @Test
    void takesABackupAndReportsAHealthyRepository() throws Exception {
        Path repo = work.resolve("repo");
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"))) {
            PgBackupConfig config = EmbeddedNightlyBackup.configure("127.0.0.1", cluster.port(), PgCluster.SUPERUSER,
                    cluster.password(), PgCluster.DATABASE, repo).toBuilder().pgBin(PgCluster.binaries().binDir()).build();
            String archiveCommand = PgBackup.create(config).archiveSetup().archiveCommand();
            cluster.appendSettings(Map.of("archive_mode", "on", "archive_command", "'" + archiveCommand.replace("'", "''") + "'"));
            PgBackup.create(config).archiveSetup().init();
            cluster.restart();

            EmbeddedNightlyBackup.Outcome first = EmbeddedNightlyBackup.run(config);
            cluster.switchWal();
            PgCluster.await(Duration.ofMinutes(1), "archiving", () ->
                    cluster.queryLong("SELECT archived_count FROM pg_stat_archiver") > 0);
            EmbeddedNightlyBackup.Outcome second = EmbeddedNightlyBackup.run(config);

            assertThat(first.backupsInRepository()).isEqualTo(1);
            assertThat(second.backupsInRepository()).isEqualTo(2);
            assertThat(second.backup().id()).isGreaterThan(first.backup().id());
            assertThat(second.verdict()).isEqualTo(StatusReport.Verdict.OK);
        }
    }
}
