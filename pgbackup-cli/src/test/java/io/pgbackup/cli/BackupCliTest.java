package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** backup, list and status through the real jar, and the refusals' exit codes and one-line messages. */
class BackupCliTest {
    @TempDir
    static Path clusterDir;
    static PgCluster cluster;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgCluster.create(clusterDir);
        cluster.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private Map<String, String> env(Path repo) throws Exception {
        new Repository(repo).createLayout();
        return new HashMap<>(cluster.environment(repo));
    }

    @Test
    void backupThenListShowsItInTextAndJson() throws Exception {
        Map<String, String> env = env(work.resolve("repo"));
        CliProcess.Result backup = CliProcess.run(env, "backup");
        assertThat(backup.exitCode()).as(backup.all()).isZero();
        assertThat(backup.stdout()).matches("(?s)backup \\d{8}_\\d{6} complete: .* stored .*");

        CliProcess.Result list = CliProcess.run(env, "list");
        assertThat(list.exitCode()).isZero();
        String id = backup.stdout().split(" ")[1];
        assertThat(list.stdout()).contains(id).contains("ID").contains("WAL RANGE");

        CliProcess.Result json = CliProcess.run(env, "list", "--json");
        JsonNode array = new ObjectMapper().readTree(json.stdout());
        assertThat(array).hasSize(1);
        assertThat(array.get(0).path("id").asText()).isEqualTo(id);
        assertThat(array.get(0).path("manifest").path("files")).hasSize(3);

        // A manifest that no longer parses: list leaves the backup out and says so, status names it.
        Files.writeString(work.resolve("repo/base").resolve(id).resolve("pgbackup_manifest.json"), "{\"id\": ");
        CliProcess.Result broken = CliProcess.run(env, "list");
        assertThat(broken.exitCode()).isZero();
        assertThat(broken.stdout()).contains("no backups yet");
        assertThat(broken.stderr()).contains("skipping backup " + id).contains("run 'pgbackup verify " + id + "'");
        CliProcess.Result status = CliProcess.run(env, "status");
        assertThat(status.stdout()).contains("backup " + id + " cannot be used: ")
                .containsPattern(id + " +UNREADABLE, skipped: ");
    }

    @Test
    void incrementalTypesPlanListStatusAndCleanupShowTheChain() throws Exception {
        Map<String, String> env = env(work.resolve("repo"));
        CliProcess.Result bogus = CliProcess.run(env, "backup", "--type", "weekly");
        assertThat(bogus.exitCode()).as(bogus.all()).isEqualTo(2);
        assertThat(bogus.stderr()).contains("--type must be full, diff, incr or auto, not 'weekly'");

        CliProcess.Result noFull = CliProcess.run(env, "backup", "--type", "incr", "--dry-run");
        assertThat(noFull.exitCode()).as(noFull.all()).isZero();
        assertThat(noFull.stdout()).contains("would take full: no full backup of this cluster to build an incr on");
        assertThat(work.resolve("repo/base")).isEmptyDirectory();

        String full = CliProcess.run(env, "backup").stdout().split(" ")[1];
        cluster.execute("INSERT INTO t SELECT g FROM generate_series(1001, 2000) g");
        CliProcess.Result incr = CliProcess.run(env, "backup", "--type", "incr");
        assertThat(incr.exitCode()).as(incr.all()).isZero();
        assertThat(incr.stdout()).contains("(incr on " + full + ", chain of 2) complete");
        String incrId = incr.stdout().split(" ")[1];

        env.put("PG_BACKUP_MAX_CHAIN", "2");
        CliProcess.Result auto = CliProcess.run(env, "backup", "--type", "auto", "--dry-run");
        assertThat(auto.stdout()).contains("would take full: the chain of " + full + " is 2 backups long (PG_BACKUP_MAX_CHAIN=2)");
        env.put("PG_BACKUP_MAX_CHAIN", "7");
        CliProcess.Result autoIncr = CliProcess.run(env, "backup", "--type", "auto", "--dry-run");
        assertThat(autoIncr.stdout()).contains("would take incr on " + incrId + " (chain of 3)");

        CliProcess.Result list = CliProcess.run(env, "list");
        assertThat(list.stdout()).contains("TYPE").containsPattern(incrId + " +incr ")
                .contains("incr on " + full + ", chain: " + full + " > " + incrId);
        JsonNode array = new ObjectMapper().readTree(CliProcess.run(env, "list", "--json").stdout());
        assertThat(array.get(0).path("manifest").path("type").asText()).isEqualTo("full");
        assertThat(array.get(1).path("manifest").path("type").asText()).isEqualTo("incr");
        assertThat(array.get(1).path("manifest").path("parent").asText()).isEqualTo(full);
        assertThat(array.get(1).path("manifest").path("chain").get(0).asText()).isEqualTo(full);

        assertThat(CliProcess.run(env, "status").stdout()).contains("2 backups from full " + full);
        CliProcess.Result cleanup = CliProcess.run(env, "cleanup", "--dry-run");
        assertThat(cleanup.stdout()).as(cleanup.all()).contains("chain " + full + " > " + incrId);
    }

    @Test
    void closedPortExitsOneWithOneLineAndLeavesBaseAsItWas() throws Exception {
        Path repo = work.resolve("repo");
        Map<String, String> env = env(repo);
        env.put("PG_PORT", String.valueOf(PgCluster.freePort()));
        CliProcess.Result r = CliProcess.run(env, "backup");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr().strip()).startsWith("pgbackup: cannot connect").doesNotContain("\n").doesNotContain("Exception");
        try (Stream<Path> s = Files.list(repo.resolve("base"))) {
            assertThat(s).isEmpty();
        }
    }

    @Test
    void badSettingsAreUsageErrorsWithOneLineNamingTheVariable() throws Exception {
        Map<String, String> env = env(work.resolve("repo"));
        env.put("PG_PORT", "fivefour");
        CliProcess.Result r = CliProcess.run(env, "backup");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr().strip()).contains("PG_PORT='fivefour'").doesNotContain("\n").doesNotContain("Exception");

        env.put("PG_PORT", String.valueOf(cluster.port()));
        env.put("PG_BACKUP_DIR", "relative/dir");
        r = CliProcess.run(env, "list");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr().strip()).contains("PG_BACKUP_DIR").contains("absolute").doesNotContain("\n");

        env.put("PG_BACKUP_DIR", work.resolve("repo").toString());
        env.put("PG_BACKUP_RETAIN_DAYS", "-1");
        r = CliProcess.run(env, "list");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("PG_BACKUP_RETAIN_DAYS=-1");
    }

    @Test
    void verboseShowsTheStackTraceOnlyWhenAsked() throws Exception {
        Map<String, String> env = env(work.resolve("repo"));
        env.put("PG_PORT", "0");
        CliProcess.Result quiet = CliProcess.run(env, "list");
        assertThat(quiet.stderr()).doesNotContain("\tat ");
        CliProcess.Result verbose = CliProcess.run(env, "-v", "list");
        assertThat(verbose.exitCode()).isEqualTo(2);
        assertThat(verbose.stderr()).contains("\tat ");
    }

    @Test
    void unknownCommandsAndFlagsExitTwoWithAUsageLine() throws Exception {
        Map<String, String> env = env(work.resolve("repo"));
        CliProcess.Result r = CliProcess.run(env, "bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("Usage:");
        r = CliProcess.run(env, "backup", "--frobnicate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("Unknown option: '--frobnicate'").contains("Usage: pgbackup backup");
        r = CliProcess.run(env, "--version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).startsWith("pgbackup ");
        // Only the named subcommand is built at start-up; help still lists and explains every one.
        r = CliProcess.run(env, "--help");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("init", "backup", "list", "status", "restore", "verify", "cleanup", "sync",
                "schedule", "demo").doesNotContain("cds-warm-up");
        r = CliProcess.run(env, "help", "verify");
        assertThat(r.exitCode()).isZero();
        assertThat(r.stdout()).contains("Usage: pgbackup verify");
        r = CliProcess.run(env, "-v", "list", "--frobnicate");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr()).contains("Usage: pgbackup list");
    }

    @Test
    void statusReportsAndExitsZeroEvenWhenThingsAreWrong() throws Exception {
        Path repo = work.resolve("repo");
        Map<String, String> env = env(repo);
        CliProcess.Result r = CliProcess.run(env, "status");
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.stdout()).startsWith("status: FAIL").contains("archive_mode is off").contains("no backups yet")
                .contains("password         ****").doesNotContain(cluster.password());

        CliProcess.Result json = CliProcess.run(env, "status", "--json");
        JsonNode report = new ObjectMapper().readTree(json.stdout());
        assertThat(report.path("verdict").asText()).isEqualTo("FAIL");
        assertThat(report.path("cluster").path("reachable").asBoolean()).isTrue();
        assertThat(report.path("config").path("password").asText()).isEqualTo("****");
        assertThat(json.stdout()).doesNotContain(cluster.password());
    }
}
