package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/** Tablespaces through the jar: list and status show them, restore --tablespace-mapping plans and restores. */
class TablespaceCliTest {
    @TempDir
    Path work;

    @Test
    void backupListStatusAndARestoreWithTablespaceMapping() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            PgCluster pg = source.cluster();
            Map<String, String> env = pg.environment(source.repository());
            Path ts = Files.createDirectories(work.resolve("ts"));
            pg.execute("CREATE TABLESPACE far LOCATION '" + ts + "'",
                    "CREATE TABLE accounts (id int PRIMARY KEY USING INDEX TABLESPACE far, balance int) TABLESPACE far",
                    "INSERT INTO accounts SELECT g, g FROM generate_series(1, 800) g");
            long oid = pg.queryLong("SELECT oid FROM pg_tablespace WHERE spcname = 'far'");
            CliProcess.Result backup = CliProcess.run(env, "backup");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            String id = backup.stdout().split(" ")[1];
            String expected = fingerprint(pg, "accounts");

            CliProcess.Result list = CliProcess.run(env, "list");
            assertThat(list.stdout()).as(list.all()).contains("tablespaces: " + oid + " at " + ts + " (" + oid + ".tar.gz)");
            JsonNode listed = new ObjectMapper().readTree(CliProcess.run(env, "list", "--json").stdout()).get(0)
                    .path("manifest").path("tablespaces").get(0);
            assertThat(listed.path("oid").asLong()).isEqualTo(oid);
            assertThat(listed.path("location").asText()).isEqualTo(ts.toString());
            assertThat(listed.path("file").asText()).isEqualTo(oid + ".tar.gz");
            CliProcess.Result status = CliProcess.run(env, "status");
            assertThat(status.stdout()).as(status.all()).contains("tablespaces: " + oid + " at " + ts);
            JsonNode statusJson = new ObjectMapper().readTree(CliProcess.run(env, "status", "--json").stdout());
            assertThat(statusJson.path("backups").path("tablespaces").path(id).get(0).path("location").asText()).isEqualTo(ts.toString());

            source.switchAndAwaitArchived();
            pg.stop();
            Path target = work.resolve("restored");
            Path moved = work.resolve("moved/far");
            String mapping = ts + "=" + moved;
            CliProcess.Result dry = CliProcess.run(env, "restore", id, "--target-dir", target.toString(),
                    "--tablespace-mapping", mapping, "--dry-run");
            assertThat(dry.exitCode()).as(dry.all()).isZero();
            assertThat(dry.stdout()).contains("tablespace " + oid + ": " + moved + " (was " + ts + ")")
                    .contains(moved + "/ from " + oid + ".tar.gz").contains(target.resolve("pg_tblspc/" + oid) + " -> " + moved)
                    .contains("dry run");
            assertThat(target).doesNotExist();
            assertThat(moved.getParent()).doesNotExist();

            CliProcess.Result notEmpty = CliProcess.run(env, "restore", id, "--target-dir", target.toString());
            assertOneLine(notEmpty, 1, "tablespace directory " + ts + " is not empty");
            CliProcess.Result malformed = CliProcess.run(env, "restore", id, "--target-dir", target.toString(),
                    "--tablespace-mapping", "relative=" + moved);
            assertOneLine(malformed, 2, "is not absolute");
            assertThat(target).doesNotExist();

            CliProcess.Result restore = CliProcess.run(env, "restore", id, "--target-dir", target.toString(),
                    "--tablespace-mapping", mapping);
            assertThat(restore.exitCode()).as(restore.all()).isZero();
            assertThat(Files.readSymbolicLink(target.resolve("pg_tblspc/" + oid))).isEqualTo(moved);
            try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run-restored"), pg.password())) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "accounts")).isEqualTo(expected);
                assertThat(copy.queryString("SELECT pg_tablespace_location(" + oid + ")")).isEqualTo(moved.toString());
            }
        }
    }

    private static void assertOneLine(CliProcess.Result r, int exit, String text) {
        assertThat(r.exitCode()).as(r.all()).isEqualTo(exit);
        assertThat(r.stderr().strip()).contains(text).doesNotContain("\n").doesNotContain("Exception");
    }
}
