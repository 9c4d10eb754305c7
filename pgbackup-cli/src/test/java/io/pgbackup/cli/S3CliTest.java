package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.s3.S3Storage;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsCredentials;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The object-storage issue's "done when", through the jar against a real S3 server (s3proxy over
 * HTTP): archive and back up with the bucket configured, lose the machine's repository, and
 * list, verify and restore to a point in time from the bucket alone.
 */
class S3CliTest {
    private static final String PREFIX = "db1/pgbackup";

    @TempDir
    Path work;

    static Map<String, String> credentials(S3Server s3) {
        AwsCredentials c = s3.credentials().resolveCredentials();
        return Map.of("AWS_ACCESS_KEY_ID", c.accessKeyId(), "AWS_SECRET_ACCESS_KEY", c.secretAccessKey());
    }

    static Map<String, String> env(PgCluster pg, Path repo, S3Server s3) {
        Map<String, String> env = new HashMap<>(pg.environment(repo));
        env.put("PG_BACKUP_S3_BUCKET", S3Server.BUCKET);
        env.put("PG_BACKUP_S3_PREFIX", PREFIX);
        env.put("PG_BACKUP_S3_ENDPOINT", s3.endpoint().toString());
        env.putAll(credentials(s3));
        return env;
    }

    /** Polls the bucket until it holds {@code key}. */
    static void awaitInBucket(S3Storage bucket, String key) throws Exception {
        PgCluster.await(Duration.ofMinutes(2), key + " in the bucket", () -> bucket.stat(key).isPresent());
    }

    @Test
    void archiveAndBackUpToTheBucketThenRecoverToATimeFromTheBucketAlone() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = s3.storage(PREFIX);
             PgCluster pg = PgCluster.create(work.resolve("pg"))) {
            Path repo = work.resolve("repo");
            Map<String, String> env = env(pg, repo, s3);
            CliProcess.Result init = CliProcess.run(env, "init");
            assertThat(init.exitCode()).as(init.all()).isZero();
            String script = Files.readString(repo.resolve("scripts/archive_wal.sh"));
            assertThat(script).contains("S3_BUCKET='" + S3Server.BUCKET + "'").doesNotContain(credentials(s3).get("AWS_SECRET_ACCESS_KEY"));
            // The archiver's background sync finds the credentials in the server's environment, as on a real host.
            pg.addServerEnvironment(credentials(s3));
            pg.appendSettings(Map.of("archive_mode", "on",
                    "archive_command", "'" + repo.resolve("scripts/archive_wal.sh") + " %p %f'"));
            pg.restart();

            pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)",
                    "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 500) g");
            CliProcess.Result backup = CliProcess.run(env, "backup", "--json");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            JsonNode info = new ObjectMapper().readTree(backup.stdout());
            String id = info.path("id").asText();
            assertThat(info.path("warnings")).as(backup.all()).isEmpty();
            assertThat(bucket.stat(Repository.manifestKey(id))).isPresent();

            pg.execute("UPDATE accounts SET balance = balance + 1 WHERE id <= 50");
            OffsetDateTime t = serverNow(pg).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
            String atT = fingerprint(pg, "accounts");
            PgCluster.await(Duration.ofSeconds(5), "the clock to pass T", () -> serverNow(pg).isAfter(t));
            pg.execute("UPDATE accounts SET balance = 0", "DROP TABLE accounts");
            String last = pg.switchAndAwaitArchived();
            // No manual step: archive_wal.sh's background sync brings every segment to the bucket.
            awaitInBucket(bucket, Repository.walKey(last + ".gz"));
            assertThat(Files.readString(repo.resolve("logs/wal_archive.log"))).contains("s3-synced")
                    .doesNotContain(credentials(s3).get("AWS_SECRET_ACCESS_KEY"));
            CliProcess.Result dry = CliProcess.run(env, "sync", "--dry-run");
            assertThat(dry.exitCode()).as(dry.all()).isZero();
            assertThat(dry.stdout()).contains("dry run: 0 file(s)");
            pg.stop();

            // The machine is gone: a fresh, empty PG_BACKUP_DIR, only the bucket's settings and credentials.
            ArchiverCliTest.stopArchiver(repo);
            AtomicFiles.deleteTree(repo);
            Path fresh = work.resolve("fresh");
            Map<String, String> dr = env(pg, fresh, s3);
            CliProcess.Result list = CliProcess.run(dr, "list");
            assertThat(list.exitCode()).as(list.all()).isZero();
            assertThat(list.stdout()).contains(id);
            assertThat(list.stderr()).contains("reading s3://" + S3Server.BUCKET + "/" + PREFIX);

            CliProcess.Result verify = CliProcess.run(dr, "verify", "--restore-test", "--restore-test-dir", work.resolve("rt").toString());
            assertThat(verify.exitCode()).as(verify.all()).isZero();

            String spec = t.atZoneSameInstant(ZoneId.systemDefault()).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
            Path target = work.resolve("NEW");
            CliProcess.Result plan = CliProcess.run(dr, "restore", "--from-s3", "--target-time", spec, "--target-dir", target.toString(), "--dry-run");
            assertThat(plan.exitCode()).as(plan.all()).isZero();
            assertThat(plan.stdout()).contains("would restore backup " + id).contains("dry run");
            assertThat(target).doesNotExist();

            CliProcess.Result restore = CliProcess.run(dr, "restore", "--from-s3", "--target-time", spec, "--target-dir", target.toString());
            assertThat(restore.exitCode()).as(restore.all()).isZero();
            assertThat(Files.readString(fresh.resolve("scripts/restore_wal.sh"))).contains("wal-fetch")
                    .doesNotContain(credentials(s3).get("AWS_SECRET_ACCESS_KEY"));
            // Nothing of the repository was copied to disk: only the scripts (and logs) live locally.
            try (var s = Files.list(fresh)) {
                assertThat(s.map(p -> p.getFileName().toString()).toList()).doesNotContain("base", "wal_archive");
            }
            try (PgCluster copy = PgCluster.startExisting(pg.programs(), target, work.resolve("run-new"), pg.password(),
                    Map.of("archive_mode", "off"), credentials(s3))) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "accounts")).isEqualTo(atT);
            }
        }
    }

    private static OffsetDateTime serverNow(PgCluster pg) throws Exception {
        try (var c = pg.connect(); var st = c.createStatement(); var rs = st.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class);
        }
    }

    @Test
    void walFetchWritesOneSegmentOrSaysItIsNotThere() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = s3.storage(PREFIX);
             PgCluster pg = PgCluster.create(work.resolve("pg"))) {
            byte[] segment = new byte[16 << 20];
            segment[0] = 42;
            bucket.write(Repository.walKey("000000010000000000000003"), segment, io.pgbackup.core.storage.Storage.WriteMode.CREATE_NEW);
            Map<String, String> env = env(pg, work.resolve("empty"), s3);
            Path dest = work.resolve("RECOVERYXLOG");
            CliProcess.Result got = CliProcess.run(env, "wal-fetch", "--repo", "s3", "000000010000000000000003", dest.toString());
            assertThat(got.exitCode()).as(got.all()).isZero();
            assertThat(Files.readAllBytes(dest)).isEqualTo(segment);
            CliProcess.Result missing = CliProcess.run(env, "wal-fetch", "--repo", "s3", "000000010000000000000004", dest.toString());
            assertThat(missing.exitCode()).as(missing.all()).isEqualTo(1);
            List.of(missing.stdout(), missing.stderr()).forEach(o -> assertThat(o).isEmpty());
            s3.stop();
            CliProcess.Result down = CliProcess.run(env, "wal-fetch", "--repo", "s3", "000000010000000000000004", dest.toString());
            assertThat(down.exitCode()).as(down.all()).isEqualTo(126);
            assertThat(down.stderr().strip()).startsWith("pgbackup: ").doesNotContain("\n").doesNotContain("Exception");
        }
    }

    @Test
    void aServerStoppedMidUploadOrWrongCredentialsFailWithOneLineLeaveNothingIncompleteAndTheNextRunCompletes() throws Exception {
        try (S3Server s3 = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = s3.storage(PREFIX);
             PgCluster pg = PgCluster.create(work.resolve("pg"))) {
            Path repo = work.resolve("repo");
            // Archiving without the bucket: uncompressed 16 MiB segments, multipart uploads for sync to cut short.
            Map<String, String> local = new HashMap<>(pg.environment(repo));
            local.put("PG_BACKUP_COMPRESS", "none");
            assertThat(CliProcess.run(local, "init").exitCode()).isZero();
            pg.appendSettings(Map.of("archive_mode", "on",
                    "archive_command", "'" + repo.resolve("scripts/archive_wal.sh") + " %p %f'"));
            pg.restart();
            for (int i = 0; i < 12; i++) {
                pg.switchAndAwaitArchived();
            }
            Map<String, String> env = env(pg, repo, s3);

            // Wrong credentials: one line, exit 1; a backup still succeeds, with a warning.
            Map<String, String> wrong = new HashMap<>(env);
            wrong.put("AWS_SECRET_ACCESS_KEY", "not-the-secret");
            CliProcess.Result denied = CliProcess.run(wrong, "sync", "--to", "s3");
            assertThat(denied.exitCode()).as(denied.all()).isEqualTo(1);
            assertThat(denied.stderr().strip()).startsWith("pgbackup: sync to s3://").contains("access denied")
                    .doesNotContain("\n").doesNotContain("Exception").doesNotContain("not-the-secret");
            CliProcess.Result backup = CliProcess.run(wrong, "backup", "--json");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            String id = new ObjectMapper().readTree(backup.stdout()).path("id").asText();
            assertThat(backup.stdout()).contains("copy failed").doesNotContain("not-the-secret");
            assertThat(bucket.list("")).isEmpty();
            CliProcess.Result deniedStatus = CliProcess.run(wrong, "status");
            assertThat(deniedStatus.stdout()).contains("reachable        no: access denied").doesNotContain("not-the-secret");
            CliProcess.Result behind = CliProcess.run(env, "status", "--json");
            JsonNode lag = new ObjectMapper().readTree(behind.stdout());
            assertThat(lag.path("bucket").path("writable").asBoolean()).isTrue();
            assertThat(lag.path("bucket").path("backupsMissing").asLong()).isEqualTo(1);
            assertThat(lag.path("bucket").path("localNewestBackup").asText()).isEqualTo(id);
            assertThat(lag.path("reasons").toString()).contains("1 backup(s) here are not in s3://");

            // The server stops in the middle of the copy.
            List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", CliProcess.jar().toString(), "sync", "--to", "s3"));
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.environment().keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("AWS"));
            pb.environment().putAll(env);
            Path err = work.resolve("sync.err");
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
            Process sync = pb.start();
            PgCluster.await(Duration.ofMinutes(1), "the first segments in the bucket",
                    () -> bucket.list(Repository.WAL_PREFIX).size() >= 2 || !sync.isAlive());
            s3.stop();
            assertThat(sync.waitFor(3, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
            assertThat(sync.exitValue()).as(Files.readString(err)).isEqualTo(1);
            assertThat(Files.readString(err).strip()).startsWith("pgbackup: sync to s3://").doesNotContain("\n")
                    .doesNotContain("Exception");
            s3.start();
            // Whatever is visible is whole: each object has its full size; the backup has no manifest unless complete.
            for (var o : bucket.list("")) {
                assertThat(o.size()).as(o.key()).isEqualTo(Files.size(repo.resolve(o.key())));
            }
            CliProcess.Result again = CliProcess.run(env, "sync");
            assertThat(again.exitCode()).as(again.all()).isZero();
            CliProcess.Result nothingLeft = CliProcess.run(env, "sync", "--dry-run");
            assertThat(nothingLeft.stdout()).as(nothingLeft.all()).contains("dry run: 0 file(s)");
            assertThat(bucket.stat(Repository.manifestKey(id))).isPresent();
            CliProcess.Result caughtUp = CliProcess.run(env, "status");
            assertThat(caughtUp.stdout()).contains("S3 bucket (offsite copy)").contains("reachable        yes")
                    .contains("writable         yes").contains(id + " (here " + id + ", all copied)").doesNotContain("not in s3://");
            // Retention in the bucket: the same plan and invariant, the bucket as the repository.
            CliProcess.Result cleanup = CliProcess.run(env, "cleanup", "--repo", "s3", "--dry-run");
            assertThat(cleanup.exitCode()).as(cleanup.all()).isZero();
            assertThat(cleanup.all()).contains("s3://" + S3Server.BUCKET + "/" + PREFIX);
            // Without --repo, the local repository and then the bucket, each with its own plan.
            CliProcess.Result both = CliProcess.run(env, "cleanup", "--dry-run");
            assertThat(both.exitCode()).as(both.all()).isZero();
            assertThat(both.stdout()).contains("== " + repo, "== s3://" + S3Server.BUCKET + "/" + PREFIX, "dry run: nothing was changed");
            CliProcess.Result applied = CliProcess.run(env, "cleanup");
            assertThat(applied.exitCode()).as(applied.all()).isZero();
            assertThat(applied.stdout()).contains("cleanup of " + repo + " done", "cleanup of s3://" + S3Server.BUCKET + "/" + PREFIX + " done");
            // The kept backup and its manifest stay in both.
            assertThat(bucket.stat(Repository.manifestKey(id))).isPresent();
            CliProcess.Result localOnly = CliProcess.run(env, "cleanup", "--repo", "local", "--dry-run");
            assertThat(localOnly.stdout()).doesNotContain("s3://");
        }
    }
}
