package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two clusters on one host, each configured by its own file (--config / PG_BACKUP_CONFIG) and
 * nothing in the environment: init records the file in the scripts, archiving works through them,
 * status says where each setting came from, and a bad file is one line, exit 2.
 */
class ConfigFileCliTest {
    @TempDir
    Path work;

    private Map<String, String> baseEnv() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", work.resolve("home").toString());
        env.put("PATH", System.getenv("PATH"));
        return env;
    }

    private Path configFile(String name, Map<String, String> settings, String extra) throws Exception {
        Path file = work.resolve(name + ".env");
        String text = "# " + name + ", written by the test\n" + settings.entrySet().stream()
                .map(e -> e.getKey() + "='" + e.getValue() + "'").collect(Collectors.joining("\n")) + "\n" + extra;
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    @Test
    void twoClustersEachArchiveThroughTheirOwnFile() throws Exception {
        try (PgCluster a = PgCluster.create(work.resolve("pg-a")); PgCluster b = PgCluster.create(work.resolve("pg-b"))) {
            Path repoA = work.resolve("repo-a");
            Path repoB = work.resolve("repo-b");
            Path fileA = configFile("db-a", a.environment(repoA), "PG_BACKUP_RETAIN_DAYS=11\n");
            Path fileB = configFile("db-b", b.environment(repoB), "PG_BACKUP_ARCHIVER=sync\n");
            Map<String, String> env = baseEnv();

            CliProcess.Result initA = CliProcess.run(env, "--config", fileA.toString(), "init");
            assertThat(initA.exitCode()).as(initA.all()).isZero();
            Map<String, String> envB = new HashMap<>(env);
            envB.put("PG_BACKUP_CONFIG", fileB.toString());
            CliProcess.Result initB = CliProcess.run(envB, "init");
            assertThat(initB.exitCode()).as(initB.all()).isZero();
            assertThat(Files.readString(repoA.resolve("scripts/archive_wal.sh")))
                    .contains("\nPG_BACKUP_CONFIG='" + fileA.toRealPath() + "'; export PG_BACKUP_CONFIG\n").contains("\nARCHIVER=async\n");
            assertThat(Files.readString(repoA.resolve("scripts/restore_wal.sh"))).contains("PG_BACKUP_CONFIG='" + fileA.toRealPath() + "'");
            assertThat(Files.readString(repoB.resolve("scripts/archive_wal.sh")))
                    .contains("\nPG_BACKUP_CONFIG='" + fileB.toRealPath() + "'; export PG_BACKUP_CONFIG\n").contains("\nARCHIVER=sync\n");

            try {
                for (PgCluster pg : new PgCluster[] {a, b}) {
                    Path repo = pg == a ? repoA : repoB;
                    pg.appendSettings(Map.of("archive_mode", "on", "archive_command", "'" + repo.resolve("scripts/archive_wal.sh") + " %p %f'"));
                    pg.restart();
                    pg.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
                    String last = pg.switchAndAwaitArchived();
                    assertThat(repo.resolve("wal_archive/" + last + ".gz")).exists();
                }

                // status: the file's settings, the environment's override, the password never shown.
                Map<String, String> envA = new HashMap<>(env);
                envA.put("PG_BACKUP_RETAIN_COUNT", "5");
                CliProcess.Result json = CliProcess.run(envA, "status", "--json", "--config", fileA.toString());
                assertThat(json.stdout()).doesNotContain(a.password());
                JsonNode status = new ObjectMapper().readTree(json.stdout());
                assertThat(status.path("configFile").asText()).isEqualTo(fileA.toRealPath().toString());
                assertThat(status.path("config").path("retainDays").asInt()).isEqualTo(11);
                Map<String, JsonNode> settings = new HashMap<>();
                status.path("settings").forEach(s -> settings.put(s.path("name").asText(), s));
                assertThat(settings.get("PG_BACKUP_DIR").path("source").asText()).isEqualTo("file:" + fileA.toRealPath());
                assertThat(settings.get("PG_BACKUP_DIR").path("value").asText()).isEqualTo(repoA.toString());
                assertThat(settings.get("PG_BACKUP_RETAIN_COUNT").path("source").asText()).isEqualTo("env");
                assertThat(settings.get("PG_BACKUP_REMOTE_HOST").path("source").asText()).isEqualTo("default");
                assertThat(settings.get("PG_PASSWORD").path("value").asText()).isEqualTo("****");
                assertThat(status.path("walArchive").path("files").asInt()).isPositive();

                CliProcess.Result text = CliProcess.run(envA, "--config", fileA.toString(), "status");
                assertThat(text.stdout()).contains("config file      " + fileA.toRealPath())
                        .contains("PG_BACKUP_RETAIN_COUNT 5  [env]").contains("PG_PASSWORD      ****  [file:" + fileA.toRealPath() + "]")
                        .doesNotContain(a.password());
            } finally {
                ArchiverCliTest.stopArchiver(repoA);
            }
        }
    }

    @Test
    void aBadFileIsOneLineExitTwoAndSchedulesRecordTheFile() throws Exception {
        Map<String, String> env = baseEnv();
        Path bad = work.resolve("bad.env");
        Files.writeString(bad, "PG_BACKUP_DIR=" + work.resolve("repo") + "\nPG_BACKUP_RETAIN_DAY=3\n");
        CliProcess.Result refused = CliProcess.run(env, "--config", bad.toString(), "list");
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.stderr().strip()).isEqualTo("pgbackup: " + bad.toRealPath()
                + " line 2: PG_BACKUP_RETAIN_DAY is not a pgbackup setting: did you mean PG_BACKUP_RETAIN_DAYS?");

        Path open = work.resolve("open.env");
        Files.writeString(open, "PG_BACKUP_DIR=" + work.resolve("repo") + "\nPG_PASSWORD=hunter2\n");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        CliProcess.Result secret = CliProcess.run(env, "list", "--config", open.toString());
        assertThat(secret.exitCode()).isEqualTo(2);
        assertThat(secret.stderr().strip()).startsWith("pgbackup: " + open.toRealPath() + " holds PG_PASSWORD but group or others may read it")
                .doesNotContain("hunter2");

        Path good = work.resolve("db1.env");
        Files.writeString(good, "PG_BACKUP_DIR=" + work.resolve("repo") + "\nPG_USER_NAME=backup\n");
        new io.pgbackup.core.internal.storage.Repository(work.resolve("repo")).createLayout();
        CliProcess.Result units = CliProcess.run(env, "--config", good.toString(), "schedule", "--systemd", "--install",
                "--unit-dir", work.resolve("units").toString(), "--launcher", "/opt/pgbackup/bin/pgbackup");
        assertThat(units.exitCode()).as(units.all()).isZero();
        assertThat(Files.readString(work.resolve("units/pgbackup-db1-backup.service")))
                .contains("Environment=\"PG_BACKUP_CONFIG=" + good.toRealPath() + "\"")
                .contains("ExecStart=\"/opt/pgbackup/bin/pgbackup\" \"backup\"");
        assertThat(Files.readString(work.resolve("units/pgbackup-db1-backup.timer"))).contains("Persistent=true");
        assertThat(units.stderr()).contains("systemctl --user enable --now pgbackup-db1-backup.timer pgbackup-db1-cleanup.timer");
        CliProcess.Result cron = CliProcess.run(env, "--config", good.toString(), "schedule", "--cron", "--launcher", "/opt/pgbackup/bin/pgbackup");
        assertThat(cron.stdout()).contains("PG_BACKUP_CONFIG='" + good.toRealPath() + "'");
    }
}
