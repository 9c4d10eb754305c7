package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pgbackup init} end to end: the shaded jar as a separate process, against a real cluster. */
class InitCommandTest {
    @TempDir
    static Path shared;

    static PgCluster cluster;

    @TempDir
    Path work;

    @BeforeAll
    static void startCluster() throws IOException {
        cluster = PgCluster.create(shared.resolve("pg"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void namesTheSettingsTheLiveClusterLacks() throws Exception {
        Path backupDir = work.resolve("backups");

        Run run = pgbackup(cluster.environment(backupDir), "init");

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stderr()).isEmpty();
        assertThat(run.stdout())
                .contains("Created " + backupDir)
                .contains("installed  " + backupDir.resolve("scripts/archive_wal.sh"))
                .contains("    archive_mode = on")
                .contains("    archive_command = '" + backupDir + "/scripts/archive_wal.sh %p %f'")
                .contains("    ALTER SYSTEM SET archive_timeout = 300;")
                .containsPattern("OK +wal_level = replica")
                .containsPattern("MISSING +archive_mode is off \\(want on; needs a restart\\)")
                .containsPattern("MISSING +archive_command ")
                .contains("Then restart PostgreSQL: archive_mode takes effect only on a restart.");
        assertThat(Files.isExecutable(backupDir.resolve("scripts/archive_wal.sh"))).isTrue();

        Run again = pgbackup(cluster.environment(backupDir), "init");
        assertThat(again.exitCode()).isZero();
        assertThat(again.stdout()).contains("already set up").contains("unchanged  " + backupDir.resolve("scripts/archive_wal.sh"));
    }

    @Test
    void jsonOutputIsParseable() throws Exception {
        Path backupDir = work.resolve("backups");

        Run run = pgbackup(cluster.environment(backupDir), "init", "--json");

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.stdout());
        assertThat(json.get("backupDir").asText()).isEqualTo(backupDir.toString());
        assertThat(json.get("scripts")).hasSize(2);
        assertThat(json.get("scripts").get(0).get("state").asText()).isEqualTo("INSTALLED");
        assertThat(json.get("archiveCommand").asText()).isEqualTo(backupDir + "/scripts/archive_wal.sh %p %f");
        assertThat(json.get("cluster").get("reachable").asBoolean()).isTrue();
        assertThat(json.get("settings")).hasSize(5);
        assertThat(json.get("settings").get(1).get("name").asText()).isEqualTo("archive_mode");
        assertThat(json.get("settings").get(1).get("status").asText()).isEqualTo("MISSING");
        assertThat(json.get("settings").get(1).get("needsRestart").asBoolean()).isTrue();
        assertThat(json.get("restartNeeded").asBoolean()).isTrue();
        assertThat(json.get("remoteSync").isNull()).isTrue();
    }

    @Test
    void anUnconfiguredClusterIsReportedAndInitStillSucceeds() throws Exception {
        Path backupDir = work.resolve("backups");

        Run run = pgbackup(Map.of("PG_BACKUP_DIR", backupDir.toString()), "init");

        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.stdout()).contains("PostgreSQL settings not checked: PG_DB_NAME is not set");
        assertThat(backupDir.resolve("scripts/archive_wal.sh")).exists();
    }

    @Test
    void aRelativeBackupDirectoryIsAUsageErrorOnOneLine() throws Exception {
        Run run = pgbackup(Map.of("PG_BACKUP_DIR", "relative/backups"), "init");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr().lines()).singleElement().asString()
                .startsWith("pgbackup: PG_BACKUP_DIR='relative/backups' is a relative path");
        assertThat(run.stderr()).doesNotContain("Exception");
        assertThat(work.resolve("relative")).doesNotExist();
    }

    @Test
    void thePasswordAppearsNowhereUnderTheBackupDirectoryNorInTheOutput() throws Exception {
        Path backupDir = work.resolve("backups");
        Map<String, String> env = new LinkedHashMap<>(cluster.environment(backupDir));
        env.put("PG_BACKUP_REMOTE_HOST", "backup.example.com");

        Run text = pgbackup(env, "init");
        Run json = pgbackup(env, "init", "--json");

        assertThat(text.exitCode()).isZero();
        assertThat(json.exitCode()).isZero();
        String password = cluster.password();
        assertThat(text.stdout() + text.stderr() + json.stdout() + json.stderr()).doesNotContain(password);
        try (Stream<Path> files = Files.walk(backupDir)) {
            List<Path> regular = files.filter(Files::isRegularFile).toList();
            assertThat(regular).isNotEmpty();
            for (Path file : regular) {
                assertThat(Files.readString(file, StandardCharsets.ISO_8859_1)).as(file.toString()).doesNotContain(password);
            }
        }
    }

    record Run(int exitCode, String stdout, String stderr) {
    }

    /** Runs the shaded jar with exactly {@code env} (plus PATH), as a user's shell would. */
    private Run pgbackup(Map<String, String> env, String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("pgbackup.jar");
        assertThat(jar).as("system property pgbackup.jar (set by the POM)").isNotNull();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv("PATH"));
        pb.environment().put("HOME", System.getProperty("user.home"));
        pb.environment().putAll(env);
        Path out = work.resolve("stdout.txt");
        Path err = work.resolve("stderr.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = pb.start();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("pgbackup " + String.join(" ", args) + " did not finish within 2 minutes");
        }
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }
}
