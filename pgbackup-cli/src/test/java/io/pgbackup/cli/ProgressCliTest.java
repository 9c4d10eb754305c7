package io.pgbackup.cli;

import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Progress of backup, restore, verify, sync and cleanup: a bar with rate and ETA on a terminal or with --progress, else one summary line. */
class ProgressCliTest {
    @TempDir
    Path work;

    /** {@code --progress}: the bar (with rate and ETA); by default off a terminal: one summary line; {@code --no-progress --json}: nothing. */
    private static void assertBarThenSummary(Map<String, String> env, String phase, List<String> args) throws Exception {
        List<String> forced = new ArrayList<>(args);
        forced.add("--progress");
        CliProcess.Result bar = CliProcess.run(env, forced.toArray(String[]::new));
        assertThat(bar.exitCode()).as(bar.all()).isZero();
        assertThat(bar.stderr()).contains("\r" + phase + " [").contains("/s").contains("ETA ");
        CliProcess.Result plain = CliProcess.run(env, args.toArray(String[]::new));
        assertThat(plain.exitCode()).as(plain.all()).isZero();
        assertThat(plain.stderr()).doesNotContain("\r").containsPattern("(?m)^" + phase + ": .* in .*/s$");
        List<String> quiet = new ArrayList<>(args);
        quiet.addAll(List.of("--no-progress", "--json"));
        CliProcess.Result none = CliProcess.run(env, quiet.toArray(String[]::new));
        assertThat(none.exitCode()).as(none.all()).isZero();
        assertThat(none.stderr()).isEmpty();
    }

    @Test
    void barRedrawsAtMostEveryTwoHundredMillisecondsWithRateAndEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        ProgressBar bar = new ProgressBar("backup", new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> now[0]);
        now[0] = 1_000_000_000L;
        bar.update("backup", 10L << 20, 40L << 20);
        now[0] += 100_000_000L;
        bar.update("backup", 11L << 20, 40L << 20); // too soon: not drawn
        now[0] += 150_000_000L;
        bar.update("backup", 20L << 20, 40L << 20);
        bar.finish();
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out.split("\r", -1)).hasSize(4); // two redraws and the final one
        assertThat(out).contains("50% 20.0 MiB / 40.0 MiB").contains("MiB/s").contains("ETA ").endsWith("\n");

        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        ProgressBar quiet = new ProgressBar("restore", new PrintStream(summary, true, StandardCharsets.UTF_8), false, () -> now[0]);
        quiet.update("restore", 5L << 20, 40L << 20);
        quiet.finish();
        assertThat(summary.toString(StandardCharsets.UTF_8)).doesNotContain("\r").matches("restore: 5\\.0 MiB in .*/s\\n");

        // Other output (verify's verdicts) first wipes the bar, which the next update draws again.
        ByteArrayOutputStream wiped = new ByteArrayOutputStream();
        ProgressBar verify = new ProgressBar("verify", new PrintStream(wiped, true, StandardCharsets.UTF_8), true, () -> now[0]);
        verify.update("verify", 1L << 20, 4L << 20);
        verify.clear();
        verify.update("verify", 2L << 20, 4L << 20);
        assertThat(wiped.toString(StandardCharsets.UTF_8)).matches("\rverify \\[.*\u001b\\[K\r\u001b\\[K\rverify \\[.*50% .*\u001b\\[K");
    }

    @Test
    void backupRestoreVerifySyncAndCleanupShowProgressThroughTheJar() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            Map<String, String> env = source.cluster().environment(source.repository());
            source.cluster().execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g");

            CliProcess.Result forced = CliProcess.run(env, "backup", "--progress");
            assertThat(forced.exitCode()).as(forced.all()).isZero();
            assertThat(forced.stderr()).contains("\rbackup [").contains("/s").contains("ETA ");
            String id = forced.stdout().split(" ")[1];

            // Not on a terminal: one summary line on stderr, stdout as before.
            CliProcess.Result plain = CliProcess.run(env, "backup");
            assertThat(plain.exitCode()).as(plain.all()).isZero();
            assertThat(plain.stdout()).startsWith("backup ").contains(" complete: ");
            assertThat(plain.stderr()).doesNotContain("\r").containsPattern("(?m)^backup: .* in .*/s$");
            CliProcess.Result none = CliProcess.run(env, "backup", "--no-progress", "--json");
            assertThat(none.exitCode()).as(none.all()).isZero();
            assertThat(none.stderr()).isEmpty();
            source.switchAndAwaitArchived();

            CliProcess.Result restore = CliProcess.run(env, "restore", id, "--target-dir", work.resolve("copy").toString(), "--progress");
            assertThat(restore.exitCode()).as(restore.all()).isZero();
            assertThat(restore.stderr()).contains("\rrestore [").contains("/s").contains("ETA ");

            // verify, sync and cleanup: the same bar, and the same one summary line off a terminal.
            assertBarThenSummary(env, "verify", List.of("verify"));
            try (S3Server s3 = S3Server.start(Files.createDirectories(work.resolve("s3")))) {
                Map<String, String> offsite = S3CliTest.env(source.cluster(), source.repository(), s3);
                CliProcess.Result sync = CliProcess.run(offsite, "sync", "--progress");
                assertThat(sync.exitCode()).as(sync.all()).isZero();
                assertThat(sync.stderr()).contains("\rsync [").contains("/s").contains("ETA ");
                CliProcess.Result again = CliProcess.run(offsite, "sync");
                assertThat(again.exitCode()).as(again.all()).isZero();
                assertThat(again.stderr()).doesNotContain("\r").containsPattern("(?m)^sync: .* in .*/s$");
                assertThat(CliProcess.run(offsite, "sync", "--no-progress", "--json").stderr()).isEmpty();
            }
            Map<String, String> keepOne = new java.util.HashMap<>(env);
            keepOne.put("PG_BACKUP_RETAIN_COUNT", "1");
            keepOne.put("PG_BACKUP_RETAIN_DAYS", "0");
            CliProcess.Result cleanup = CliProcess.run(keepOne, "cleanup", "--progress");
            assertThat(cleanup.exitCode()).as(cleanup.all()).isZero();
            assertThat(cleanup.stdout()).contains("deleted ");
            assertThat(cleanup.stderr()).contains("\rcleanup [").contains("/s").contains("ETA ");
            CliProcess.Result nothingLeft = CliProcess.run(keepOne, "cleanup");
            assertThat(nothingLeft.exitCode()).as(nothingLeft.all()).isZero();
            assertThat(nothingLeft.stderr()).doesNotContain("\r").containsPattern("(?m)^cleanup: .* in .*/s$");

            // On a real terminal (script(1) gives it a pty) without asking: the bar.
            if (Files.isExecutable(Path.of("/usr/bin/script"))) {
                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                List<String> command = new ArrayList<>(List.of("/usr/bin/script", "-qec",
                        java + " -jar " + CliProcess.jar() + " backup", "/dev/null"));
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
                pb.environment().putAll(env);
                Path out = work.resolve("tty.out");
                pb.redirectOutput(out.toFile());
                Process p = pb.start();
                assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
                String tty = Files.readString(out);
                assertThat(p.exitValue()).as(tty).isZero();
                assertThat(tty).contains("\rbackup [").contains("ETA ").contains(" complete: ");
            }
        }
    }
}
