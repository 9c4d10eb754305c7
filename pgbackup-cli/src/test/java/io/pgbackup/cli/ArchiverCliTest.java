package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.s3.S3Storage;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The archiver through the jar: init's default mode, status, and the S3-only setup where the directory is only a spool. */
class ArchiverCliTest {
    @TempDir
    Path work;

    @Test
    void initInstallsTheArchiverByDefaultAndStatusReportsIt() throws Exception {
        try (PgCluster pg = PgCluster.create(work.resolve("pg"))) {
            Path repo = work.resolve("repo");
            Map<String, String> env = pg.environment(repo);
            CliProcess.Result init = CliProcess.run(env, "init");
            assertThat(init.exitCode()).as(init.all()).isZero();
            assertThat(Files.readString(repo.resolve("scripts/archive_wal.sh"))).contains("\nARCHIVER=async\n");
            assertThat(init.stdout()).contains("Archiving: async");
            archiveInto(pg, repo);

            pg.execute("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g");
            String last = pg.switchAndAwaitArchived();
            assertThat(repo.resolve("wal_archive/" + last + ".gz")).exists();
            PgCluster.await(java.time.Duration.ofSeconds(10), "the archiver's state to name " + last,
                    () -> last.equals(status(env).path("walArchiver").path("state").path("lastAcknowledged").asText()));
            JsonNode archiver = status(env).path("walArchiver");
            assertThat(archiver.path("mode").asText()).isEqualTo("async");
            assertThat(archiver.path("state").path("running").asBoolean()).isTrue();
            assertThat(archiver.path("state").path("failed").asLong()).isZero();

            CliProcess.Result text = CliProcess.run(env, "status");
            assertThat(text.stdout()).contains("Archiver").contains("async").contains("last acked       " + last);

            assertThat(CliProcess.run(env, "backup").exitCode()).isZero();
            pg.switchAndAwaitArchived();
            CliProcess.Result verify = CliProcess.run(env, "verify", "--all");
            assertThat(verify.exitCode()).as(verify.all()).isZero();
            stopArchiver(repo);
        }
    }

    @Test
    void withTheBucketAsRepositoryASegmentIsArchivedOnlyOnceTheBucketHasIt() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = s3.storage("spool-mode");
             PgCluster pg = PgCluster.create(work.resolve("pg"))) {
            Path repo = work.resolve("spool");
            Map<String, String> env = new HashMap<>(S3CliTest.env(pg, repo, s3));
            env.put("PG_BACKUP_S3_PREFIX", "spool-mode");
            env.put("PG_BACKUP_ARCHIVER_REPO", "s3");
            CliProcess.Result init = CliProcess.run(env, "init");
            assertThat(init.exitCode()).as(init.all()).isZero();
            pg.addServerEnvironment(S3CliTest.credentials(s3));
            archiveInto(pg, repo);

            pg.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");
            CliProcess.Result backup = CliProcess.run(env, "backup", "--json");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            String id = new ObjectMapper().readTree(backup.stdout()).path("id").asText();
            assertThat(bucket.stat(Repository.manifestKey(id))).isPresent();

            String last = pg.switchAndAwaitArchived();
            // PostgreSQL was told "archived" only after the bucket confirmed: no waiting here.
            assertThat(bucket.stat(Repository.walKey(last + ".gz"))).isPresent();
            try (var files = Files.list(repo.resolve("wal_archive"))) {
                assertThat(files.toList()).as("the directory is only a spool").isEmpty();
            }
            CliProcess.Result list = CliProcess.run(env, "list");
            assertThat(list.exitCode()).as(list.all()).isZero();
            assertThat(list.stdout()).contains(id);
            CliProcess.Result verify = CliProcess.run(env, "verify", "--restore-test", "--restore-test-dir", work.resolve("rt").toString());
            assertThat(verify.exitCode()).as(verify.all()).isZero();
            stopArchiver(repo);
        }
    }

    @Test
    void aBucketOnlySetupWithoutABucketIsAUsageError() throws Exception {
        Map<String, String> env = Map.of("PG_BACKUP_DIR", work.resolve("r").toString(), "PG_BACKUP_ARCHIVER_REPO", "s3");
        CliProcess.Result r = CliProcess.run(env, "status");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.stderr().strip()).startsWith("pgbackup: PG_BACKUP_ARCHIVER_REPO=s3 needs a bucket").doesNotContain("\n");
    }

    private static void archiveInto(PgCluster pg, Path repo) throws Exception {
        pg.appendSettings(Map.of("archive_mode", "on", "archive_command", "'" + repo.resolve("scripts/archive_wal.sh") + " %p %f'"));
        pg.restart();
    }

    private static JsonNode status(Map<String, String> env) throws Exception {
        return new ObjectMapper().readTree(CliProcess.run(env, "status", "--json").stdout());
    }

    /** The archiver would outlive the test's directory otherwise. */
    static void stopArchiver(Path repo) {
        io.pgbackup.core.testing.ArchivingCluster.stopArchivers(repo);
    }
}
