package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** init, backup, status and verify --restore-test through the jar, pointed at a real streaming standby. */
class StandbyCliTest {
    @TempDir
    Path work;

    @Test
    void standbyWithArchiveModeAlwaysIsSetUpBackedUpReportedAndVerified() throws Exception {
        Path repo = work.resolve("repo");
        try (PgCluster primary = PgCluster.create(work.resolve("primary"))) {
            primary.execute("CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 1000)");
            String archiveCommand = PgBackup.create(primary.config(repo)).archiveSetup().archiveCommand();
            try (PgCluster standby = PgCluster.createStandby(primary, work.resolve("standby"), Map.of(
                    "archive_mode", "always", "archive_command", "'" + archiveCommand.replace("'", "''") + "'"))) {
                Map<String, String> env = standby.environment(repo);

                CliProcess.Result init = CliProcess.run(env, "init");
                assertThat(init.exitCode()).as(init.all()).isZero();
                assertThat(init.stdout()).contains("(a standby)").contains("archive_mode = always")
                        .contains("archive_timeout works only on the primary")
                        .doesNotContain("archive_timeout = 300");

                CliProcess.Result backup = CliProcess.run(env, "backup");
                assertThat(backup.exitCode()).as(backup.all()).isZero();
                assertThat(backup.stdout()).contains("from a standby on timeline 1");
                String id = backup.stdout().split(" ")[1];

                primary.execute("INSERT INTO t SELECT generate_series(1001, 2000)");
                String segment = primary.switchWal();
                standby.awaitReplayed(primary, Duration.ofMinutes(1));
                PgCluster.await(Duration.ofMinutes(1), "the standby to archive " + segment, () -> standby.queryString(
                        "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(segment) >= 0);

                CliProcess.Result status = CliProcess.run(env, "status");
                assertThat(status.stdout()).containsPattern("role +standby of 127\\.0\\.0\\.1:" + primary.port()
                        + ", WAL receiver streaming").containsPattern("replayed +\\d+/[0-9A-F]+ \\(")
                        .contains("this standby archives the WAL it receives (archive_mode = always)")
                        .containsPattern("archived +\\d+, last " + segment);
                assertThat(status.stdout()).doesNotContain("archive_mode is");
                CliProcess.Result json = CliProcess.run(env, "status", "--json");
                assertThat(json.exitCode()).as(json.all()).isZero();
                JsonNode standbyJson = new ObjectMapper().readTree(json.stdout()).path("cluster").path("standby");
                assertThat(standbyJson.path("walReceiver").asText()).isEqualTo("streaming");
                assertThat(standbyJson.path("archivesHere").asBoolean()).isTrue();
                assertThat(standbyJson.path("replayLagBytes").isNumber()).isTrue();
                assertThat(standbyJson.has("replayDelay")).isTrue();

                CliProcess.Result list = CliProcess.run(env, "list", "--json");
                assertThat(new ObjectMapper().readTree(list.stdout()).get(0).path("manifest").path("fromStandby").asBoolean())
                        .isTrue();

                Path scratch = Files.createDirectories(work.resolve("scratch"));
                CliProcess.Result verify = CliProcess.run(env, "verify", id, "--restore-test", "--restore-test-dir",
                        scratch.toString());
                assertThat(verify.exitCode()).as(verify.all()).isZero();
                assertThat(verify.stdout()).contains("backup " + id + ": OK").contains("recovered and promoted");
            }
        }
    }
}
