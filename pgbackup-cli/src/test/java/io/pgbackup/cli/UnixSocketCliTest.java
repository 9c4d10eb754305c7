package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jar against a cluster with TCP off and peer authentication only, as Debian sets up
 * {@code postgres}: PG_HOST is the socket directory and there is no PG_PASSWORD.
 */
class UnixSocketCliTest {
    @TempDir
    static Path clusterDir;
    static PgCluster cluster;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.createSocketOnly(clusterDir, Map.of());
        cluster.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void initBackupAndStatusOverTheSocketWithoutPassword() throws Exception {
        Path repo = work.resolve("repo");
        Map<String, String> env = cluster.environment(repo);
        assertThat(env).doesNotContainKey("PG_PASSWORD").containsEntry("PG_HOST", cluster.socketDir().toString());
        String where = "socket " + cluster.socketDir() + " port " + cluster.port();

        try {
            initBackupAndStatus(repo, env, where);
        } finally {
            // The cluster outlives this method, its repository does not: the async archiver it started must be gone
            // before the temporary directory is deleted (seen once in CI: its spool was written to during the delete).
            ArchivingCluster.stopArchivers(repo);
        }
    }

    private void initBackupAndStatus(Path repo, Map<String, String> env, String where) throws Exception {
        CliProcess.Result init = CliProcess.run(env, "init");
        assertThat(init.exitCode()).as(init.all()).isZero();
        assertThat(init.stdout()).contains(" at " + where + ":");
        cluster.appendSettings(Map.of("archive_mode", "on", "archive_command",
                "'" + PgBackup.create(cluster.config(repo)).archiveSetup().archiveCommand().replace("'", "''") + "'"));
        cluster.restart();

        CliProcess.Result backup = CliProcess.run(env, "backup", "--json");
        assertThat(backup.exitCode()).as(backup.all()).isZero();
        String id = new ObjectMapper().readTree(backup.stdout()).path("id").asText();
        assertThat(id).matches("\\d{8}_\\d{6}");
        cluster.switchAndAwaitArchived();

        CliProcess.Result json = CliProcess.run(env, "status", "--json");
        assertThat(json.exitCode()).as(json.all()).isZero();
        JsonNode report = new ObjectMapper().readTree(json.stdout());
        assertThat(report.path("cluster").path("reachable").asBoolean()).as(json.stdout()).isTrue();
        assertThat(report.path("cluster").path("settings").path("archive_mode").asText()).isEqualTo("on");
        assertThat(report.path("cluster").path("archiver").path("archivedCount").asLong()).isPositive();
        assertThat(report.path("config").path("host").asText()).isEqualTo(cluster.socketDir().toString());
        assertThat(report.path("config").path("password").isMissingNode() || report.path("config").path("password").isNull())
                .as(json.stdout()).isTrue();
        assertThat(report.path("backups").path("count").asInt()).isEqualTo(1);
        assertThat(report.path("backups").path("newestId").asText()).isEqualTo(id);
        assertThat(report.path("verdict").asText()).as(json.stdout()).isNotEqualTo("FAIL");

        CliProcess.Result text = CliProcess.run(env, "status");
        assertThat(text.exitCode()).as(text.all()).isZero();
        assertThat(text.stdout()).containsPattern("server +" + java.util.regex.Pattern.quote(where))
                .contains("(not set: .pgpass, peer or trust)");
    }
}
