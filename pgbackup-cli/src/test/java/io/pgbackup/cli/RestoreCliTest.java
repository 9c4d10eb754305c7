package io.pgbackup.cli;

import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/** The restore issue's "done when", through the jar: the spec's time format, dry run, refusals. */
class RestoreCliTest {
    @TempDir
    Path work;

    @Test
    void restoresToASpecFormatTimeIntoANewDirectoryThatStartsWithTheDataOfThatMoment() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            PgCluster pg = source.cluster();
            Map<String, String> env = pg.environment(source.repository());
            pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)",
                    "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 500) g");
            CliProcess.Result backup = CliProcess.run(env, "backup");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            String id = backup.stdout().split(" ")[1];

            pg.execute("UPDATE accounts SET balance = balance + 1 WHERE id <= 50");
            // The spec's format has whole seconds: T is the next second boundary, and nothing is written until it has passed.
            OffsetDateTime t = source.serverNow().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
            String atT = fingerprint(pg, "accounts");
            PgCluster.await(Duration.ofSeconds(5), "the clock to pass T", () -> source.serverNow().isAfter(t));
            pg.execute("UPDATE accounts SET balance = 0", "DROP TABLE accounts");
            source.switchAndAwaitArchived();
            pg.stop();

            String spec = t.atZoneSameInstant(ZoneId.systemDefault()).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
            Path target = work.resolve("NEW");
            CliProcess.Result dry = CliProcess.run(env, "restore", id, "--target-time", spec, "--target-dir", target.toString(), "--dry-run");
            assertThat(dry.exitCode()).as(dry.all()).isZero();
            assertThat(dry.stdout()).contains("would restore backup " + id).contains("recovery_target_time").contains("dry run")
                    .contains("timeline: 1 (the backup's own), recovery_target_timeline = 'latest'");
            CliProcess.Result current = CliProcess.run(env, "restore", id, "--target-time", spec, "--target-dir", target.toString(),
                    "--target-timeline", "current", "--dry-run");
            assertThat(current.exitCode()).as(current.all()).isZero();
            assertThat(current.stdout()).contains("recovery_target_timeline = 'current'");
            assertThat(target).doesNotExist();
            // A directory other than PGDATA: the copy does not archive, and the plan says so.
            assertThat(dry.stdout()).contains("archiving: off").contains("archive_mode = 'off'");
            CliProcess.Result preserve = CliProcess.run(env, "restore", id, "--target-time", spec, "--target-dir", target.toString(),
                    "--archive-mode", "preserve", "--dry-run");
            assertThat(preserve.exitCode()).as(preserve.all()).isZero();
            assertThat(preserve.stdout()).contains("archiving: as the backed-up cluster had it").doesNotContain("archive_mode = 'off'");

            CliProcess.Result json = CliProcess.run(env, "restore", id, "--target-time", spec, "--target-dir", target.toString(), "--dry-run", "--json");
            assertThat(json.exitCode()).as(json.all()).isZero();
            assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.stdout()).path("recoverySettings")
                    .path("recovery_target_time").asText()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.000000[+-]\\d\\d:\\d\\d");

            CliProcess.Result restore = CliProcess.run(env, "restore", id, "--target-time", spec, "--target-dir", target.toString());
            assertThat(restore.exitCode()).as(restore.all()).isZero();
            assertThat(restore.stdout()).contains("restored " + id).contains("next:").contains("pg_ctl -D " + target);

            try (PgCluster copy = PgCluster.startExisting(target, work.resolve("run-new"), pg.password())) {
                copy.awaitPromoted(Duration.ofMinutes(2));
                assertThat(fingerprint(copy, "accounts")).isEqualTo(atT);
            }
        }
    }

    @Test
    void refusalsExitNonZeroWithOneLineAndChangeNothing() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            Map<String, String> env = source.cluster().environment(source.repository());
            assertThat(CliProcess.run(env, "backup").exitCode()).isZero();
            Path target = work.resolve("target");

            CliProcess.Result unknown = CliProcess.run(env, "restore", "20000101_000000", "--target-dir", target.toString());
            assertOneLine(unknown, 2, "no backup '20000101_000000'");
            CliProcess.Result badTime = CliProcess.run(env, "restore", "--target-time", "tomorrow", "--target-dir", target.toString());
            assertOneLine(badTime, 2, "is not a time");
            CliProcess.Result twoTargets = CliProcess.run(env, "restore", "--target-lsn", "0/1", "--target", "immediate", "--target-dir", target.toString());
            assertOneLine(twoTargets, 2, "give one recovery target");
            CliProcess.Result badMode = CliProcess.run(env, "restore", "--archive-mode", "maybe", "--target-dir", target.toString());
            assertOneLine(badMode, 2, "--archive-mode 'maybe' is not known");
            CliProcess.Result badTimeline = CliProcess.run(env, "restore", "--target-timeline", "newest", "--target-dir", target.toString());
            assertOneLine(badTimeline, 2, "--target-timeline newest is not latest, current or a timeline number");
            CliProcess.Result noSuchTimeline = CliProcess.run(env, "restore", "--target-timeline", "5", "--target-dir", target.toString());
            assertOneLine(noSuchTimeline, 2, "timeline 5 has no history file in the archive (00000005.history)");
            CliProcess.Result running = CliProcess.run(env, "restore");
            assertOneLine(running, 1, "PostgreSQL is running");
            assertThat(target).doesNotExist();
            // --delta: into the running cluster, into something that is no data directory, with --move-aside
            assertOneLine(CliProcess.run(env, "restore", "--delta"), 1, "PostgreSQL is running in " + source.cluster().dataDir());
            Path notData = java.nio.file.Files.createDirectories(work.resolve("not-data"));
            java.nio.file.Files.writeString(notData.resolve("keep.txt"), "mine");
            assertOneLine(CliProcess.run(env, "restore", "--delta", "--target-dir", notData.toString()), 1, "has no readable global/pg_control");
            assertThat(notData.resolve("keep.txt")).hasContent("mine");
            assertOneLine(CliProcess.run(env, "restore", "--delta", "--move-aside", "--target-dir", target.toString()), 2,
                    "--delta rewrites the directory in place and --move-aside renames it first");
        }
    }

    private static void assertOneLine(CliProcess.Result r, int exit, String text) {
        assertThat(r.exitCode()).as(r.all()).isEqualTo(exit);
        assertThat(r.stderr().strip()).contains(text).doesNotContain("\n").doesNotContain("Exception");
    }
}
