package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.testing.ArchivingCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The verify issue's "done when", through the jar: verdicts, exit codes, --json, --all, --restore-test, status. */
class VerifyCliTest {
    @TempDir
    Path work;

    @Test
    void verifiesRestoreTestsAndFailsWithTheFileNamed() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            Map<String, String> env = source.cluster().environment(source.repository());
            source.cluster().execute("CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t SELECT generate_series(1, 1000)");
            CliProcess.Result first = CliProcess.run(env, "backup");
            assertThat(first.exitCode()).as(first.all()).isZero();
            String older = first.stdout().split(" ")[1];
            source.switchAndAwaitArchived();
            CliProcess.Result second = CliProcess.run(env, "backup");
            assertThat(second.exitCode()).as(second.all()).isZero();
            String newer = second.stdout().split(" ")[1];
            source.switchAndAwaitArchived();

            CliProcess.Result plain = CliProcess.run(env, "verify");
            assertThat(plain.exitCode()).as(plain.all()).isZero();
            assertThat(plain.stdout()).contains("backup " + newer + ": OK").contains("base.tar.gz").contains("wal archive")
                    .doesNotContain(older);

            CliProcess.Result json = CliProcess.run(env, "verify", "--json");
            assertThat(json.exitCode()).as(json.all()).isZero();
            JsonNode report = new ObjectMapper().readTree(json.stdout());
            assertThat(report.path("ok").asBoolean()).isTrue();
            assertThat(report.path("backups").get(0).path("backupId").asText()).isEqualTo(newer);
            assertThat(report.path("backups").get(0).path("checks").size()).isEqualTo(5);

            Path scratch = Files.createDirectories(work.resolve("scratch"));
            CliProcess.Result restoreTest = CliProcess.run(env, "verify", newer, "--restore-test", "--restore-test-dir", scratch.toString());
            assertThat(restoreTest.exitCode()).as(restoreTest.all()).isZero();
            assertThat(restoreTest.stdout()).contains("restore test").contains("recovered and promoted");
            assertThat(restoreTest.all()).doesNotContain(source.cluster().password());

            CliProcess.Result status = CliProcess.run(env, "status");
            assertThat(status.stdout()).contains(newer).contains("proven by a restore test").contains(older + "  ")
                    .contains("never restore-tested");

            CliProcess.Result unknown = CliProcess.run(env, "verify", "20000101_000000");
            assertThat(unknown.exitCode()).isEqualTo(2);
            assertThat(unknown.stderr().strip()).contains("existing backups are " + older + ", " + newer).doesNotContain("\n");
            assertThat(CliProcess.run(env, "verify", older, "--all").exitCode()).isEqualTo(2);

            Path base = source.repository().resolve("base").resolve(older).resolve("base.tar.gz");
            try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "rw")) {
                f.seek(f.length() / 2);
                int b = f.read();
                f.seek(f.length() / 2);
                f.write(b ^ 0xFF);
            }
            CliProcess.Result all = CliProcess.run(env, "verify", "--all");
            assertThat(all.exitCode()).as(all.all()).isEqualTo(1);
            assertThat(all.stdout()).contains("backup " + older + ": FAILED").contains("backup " + newer + ": OK")
                    .contains("1 of 2 backups passed");
            assertThat(all.stderr().strip()).startsWith("pgbackup: backup " + older + " failed verification: base.tar.gz")
                    .doesNotContain("\n").doesNotContain("Exception");
        }
    }
}
