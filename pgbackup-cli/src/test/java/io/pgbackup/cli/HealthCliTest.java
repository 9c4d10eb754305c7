package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19, items 1-3 through the jar on one real cluster: check's states and exit codes, the
 * metrics file, and the notify command hearing of failures and recoveries.
 */
class HealthCliTest {
    @TempDir
    Path work;

    @Test
    void archivingStopsThenRecoversAndCheckMetricsAndNotifyFollow() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.create(work)) {
            PgCluster pg = source.cluster();
            Path events = work.resolve("events.jsonl");
            Path childEnv = work.resolve("notify.env");
            Path notify = work.resolve("notify.sh");
            Files.writeString(notify, "#!/bin/sh\ncat >> '" + events + "'\nenv > '" + childEnv + "'\n");
            Files.setPosixFilePermissions(notify, PosixFilePermissions.fromString("rwx------"));
            Path textfile = Files.createDirectories(work.resolve("textfile")).resolve("pgbackup.prom");
            Map<String, String> env = new LinkedHashMap<>(pg.environment(source.repository()));
            env.put("PG_BACKUP_NOTIFY_COMMAND", notify.toString());
            env.put("PG_BACKUP_METRICS_FILE", textfile.toString());

            CliProcess.Result backup = CliProcess.run(env, "backup");
            assertThat(backup.exitCode()).as(backup.all()).isZero();
            String backupId = backup.stdout().split(" ")[1];
            assertThat(textfile).exists();
            assertThat(Files.readString(textfile)).contains("pgbackup_backup_last_success_timestamp_seconds ")
                    .contains("pgbackup_backup_size_bytes ").contains("pgbackup_check_status 0");
            assertThat(Files.getPosixFilePermissions(textfile)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));

            CliProcess.Result ok = CliProcess.run(env, "check");
            System.out.println("check (OK cluster): " + ok.stdout().strip());
            assertThat(ok.exitCode()).as(ok.all()).isZero();
            assertThat(ok.stdout().strip()).startsWith("PGBACKUP OK - newest backup " + backupId).contains(" | backup_age=")
                    .contains("free_percent=").doesNotContain("\n");

            // A backup that cannot connect fails and is notified, without the password in the event or the child's environment.
            Map<String, String> wrong = new LinkedHashMap<>(env);
            wrong.put("PG_PASSWORD", "not-the-password");
            CliProcess.Result failed = CliProcess.run(wrong, "backup");
            assertThat(failed.exitCode()).as(failed.all()).isEqualTo(1);
            List<JsonNode> afterFailure = read(events);
            assertThat(afterFailure).last().satisfies(e -> {
                assertThat(e.path("event").asText()).isEqualTo("failure");
                assertThat(e.path("command").asText()).isEqualTo("backup");
                assertThat(e.path("message").asText()).isNotBlank();
                assertThat(e.path("repository").asText()).contains(source.repository().getFileName().toString());
            });
            assertThat(Files.readString(events)).doesNotContain("not-the-password").doesNotContain(pg.password());
            assertThat(Files.readString(childEnv)).doesNotContain("PG_PASSWORD").doesNotContain(pg.password())
                    .contains("PG_BACKUP_DIR=");

            // Archiving breaks (the command still names our script, so only the failures tell).
            String archiveCommand = pg.queryString("SHOW archive_command");
            pg.execute("ALTER SYSTEM SET archive_command = 'false && " + archiveCommand.replace("'", "''") + "'",
                    "SELECT pg_reload_conf()");
            PgCluster.await(Duration.ofMinutes(1), "archive_command reloaded",
                    () -> pg.queryString("SHOW archive_command").startsWith("false && "));
            pg.switchWal();
            PgCluster.await(Duration.ofMinutes(1), "an archiving failure",
                    () -> pg.queryLong("SELECT failed_count FROM pg_stat_archiver") > 0);

            CliProcess.Result critical = CliProcess.run(env, "check");
            System.out.println("check (archiving failing): " + critical.stdout().strip() + "\nmetrics file:\n" + Files.readString(textfile));
            assertThat(critical.exitCode()).as(critical.all()).isEqualTo(2);
            assertThat(critical.stdout().strip()).startsWith("PGBACKUP CRITICAL - archiving is failing").contains("archive_failures=");
            assertThat(Files.readString(textfile)).contains("pgbackup_wal_archive_failing 1").contains("pgbackup_check_status 2")
                    .contains("pgbackup_wal_archive_last_failure_timestamp_seconds ");
            assertThat(read(events)).last().satisfies(e -> {
                assertThat(e.path("event").asText()).isEqualTo("failure");
                assertThat(e.path("command").asText()).isEqualTo("archive");
                assertThat(e.path("message").asText()).contains("archiving is failing");
            });
            int eventsWhileFailing = read(events).size();
            CliProcess.Result json = CliProcess.run(env, "check", "--json");
            assertThat(json.exitCode()).isEqualTo(2);
            JsonNode report = new ObjectMapper().readTree(json.stdout());
            assertThat(report.path("state").asText()).isEqualTo("CRITICAL");
            assertThat(report.path("findings").get(0).path("key").asText()).isEqualTo("archiving");
            // Still failing: no second page.
            assertThat(read(events)).hasSize(eventsWhileFailing);

            // Fixed: the waiting segment is archived, check is OK again and the recovery is told.
            pg.execute("ALTER SYSTEM RESET archive_command", "SELECT pg_reload_conf()");
            source.switchAndAwaitArchived();
            CliProcess.Result recovered = CliProcess.run(env, "check");
            assertThat(recovered.exitCode()).as(recovered.all()).isZero();
            assertThat(recovered.stdout()).startsWith("PGBACKUP OK - ");
            assertThat(Files.readString(textfile)).contains("pgbackup_wal_archive_failing 0").contains("pgbackup_check_status 0");
            assertThat(read(events)).last().satisfies(e -> {
                assertThat(e.path("event").asText()).isEqualTo("recovery");
                assertThat(e.path("command").asText()).isEqualTo("archive");
            });

            // The backup that failed succeeds: a recovery of backup.
            CliProcess.Result again = CliProcess.run(env, "backup");
            assertThat(again.exitCode()).as(again.all()).isZero();
            assertThat(read(events)).last().satisfies(e -> {
                assertThat(e.path("event").asText()).isEqualTo("recovery");
                assertThat(e.path("command").asText()).isEqualTo("backup");
            });

            CliProcess.Result metrics = CliProcess.run(env, "metrics");
            assertThat(metrics.exitCode()).as(metrics.all()).isZero();
            assertThat(metrics.stdout()).contains("# TYPE pgbackup_backup_last_success_timestamp_seconds gauge")
                    .contains("pgbackup_backups 2").contains("pgbackup_recovery_window_seconds ")
                    .contains("pgbackup_wal_archive_last_success_timestamp_seconds ");

            // WARNING (1): a free-space threshold just above what is free, so below it but above its half.
            double free = 100.0 * Files.getFileStore(source.repository()).getUsableSpace()
                    / Files.getFileStore(source.repository()).getTotalSpace();
            Assumptions.assumeTrue(free > 2 && free < 97, "free space " + free + "% leaves no WARNING band");
            Map<String, String> tight = new LinkedHashMap<>(env);
            tight.put("PG_BACKUP_CHECK_FREE_PERCENT", String.valueOf((int) Math.ceil(free) + 1));
            CliProcess.Result warning = CliProcess.run(tight, "check");
            assertThat(warning.exitCode()).as(warning.all()).isEqualTo(1);
            assertThat(warning.stdout()).startsWith("PGBACKUP WARNING - ").contains("free on the repository's filesystem");
        }
    }

    /**
     * Sync mode (no Java per segment): archive_wal.sh itself starts 'pgbackup archive-event' when
     * archiving starts failing and when it works again, so the notify command hears of both at
     * once, once each, and the metrics file follows; the settings come from init's --config file.
     */
    @Test
    void syncArchiveScriptNotifiesFailureAndRecoveryOnceEach() throws Exception {
        try (PgCluster pg = PgCluster.create(work.resolve("pg"))) {
            Path repo = work.resolve("repo");
            Path events = work.resolve("events.jsonl");
            Path notify = work.resolve("notify.sh");
            Files.writeString(notify, "#!/bin/sh\ncat >> '" + events + "'\n");
            Files.setPosixFilePermissions(notify, PosixFilePermissions.fromString("rwx------"));
            Path textfile = Files.createDirectories(work.resolve("textfile")).resolve("pgbackup.prom");
            Map<String, String> settings = new LinkedHashMap<>(pg.environment(repo));
            settings.put("PG_BACKUP_ARCHIVER", "sync");
            settings.put("PG_BACKUP_NOTIFY_COMMAND", notify.toString());
            settings.put("PG_BACKUP_METRICS_FILE", textfile.toString());
            Path config = work.resolve("pgbackup.conf");
            StringBuilder lines = new StringBuilder();
            settings.forEach((k, v) -> lines.append(k).append('=').append(v).append('\n'));
            Files.writeString(config, lines);
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
            Map<String, String> env = Map.of("PG_BACKUP_CONFIG", config.toString());
            CliProcess.Result init = CliProcess.run(env, "init");
            assertThat(init.exitCode()).as(init.all()).isZero();
            assertThat(Files.readString(repo.resolve("scripts/archive_wal.sh"))).contains("\nARCHIVER=sync\n");
            pg.appendSettings(Map.of("archive_mode", "on", "archive_command", "'" + repo.resolve("scripts/archive_wal.sh") + " %p %f'"));
            pg.restart();
            pg.switchAndAwaitArchived();
            assertThat(events).as("all is well: nothing told").doesNotExist();

            // The repository refuses the segment: the failure is told at once, and the metrics file says so.
            Path walArchive = repo.resolve("wal_archive");
            Files.setPosixFilePermissions(walArchive, PosixFilePermissions.fromString("r-x------"));
            Files.deleteIfExists(textfile);
            String stuck = pg.switchWal();
            PgCluster.await(Duration.ofMinutes(1), "the failure event", () -> read(events).size() == 1);
            JsonNode failure = read(events).get(0);
            assertThat(failure.path("event").asText()).isEqualTo("failure");
            assertThat(failure.path("command").asText()).isEqualTo("archive");
            assertThat(failure.path("message").asText()).startsWith(stuck + " could not be archived: ");
            PgCluster.await(Duration.ofMinutes(1), "the metrics file", () -> Files.exists(textfile));
            assertThat(Files.readString(textfile)).contains("pgbackup_wal_archive_failing 1");
            // PostgreSQL retries (three times in a row): the mark keeps them from paging again.
            PgCluster.await(Duration.ofMinutes(1), "PostgreSQL's retries",
                    () -> pg.queryLong("SELECT failed_count FROM pg_stat_archiver") >= 3);

            // Writable again: the next archived segment tells the recovery, once.
            Files.setPosixFilePermissions(walArchive, PosixFilePermissions.fromString("rwx------"));
            pg.switchAndAwaitArchived();
            PgCluster.await(Duration.ofMinutes(1), "the recovery event", () -> read(events).size() >= 2);
            List<JsonNode> told = read(events);
            assertThat(told).hasSize(2);
            assertThat(told.get(1).path("event").asText()).isEqualTo("recovery");
            assertThat(told.get(1).path("command").asText()).isEqualTo("archive");
            PgCluster.await(Duration.ofMinutes(1), "the metrics file to show the recovery",
                    () -> Files.readString(textfile).contains("pgbackup_wal_archive_failing 0"));
            assertThat(Files.readString(events)).doesNotContain(pg.password());
        }
    }

    @Test
    void checkThatCannotRunIsUnknown() throws Exception {
        Map<String, String> env = Map.of("PG_BACKUP_DIR", work.toString(), "PG_BACKUP_CHECK_READY_FILES", "lots");
        CliProcess.Result badSetting = CliProcess.run(env, "check");
        assertThat(badSetting.exitCode()).as(badSetting.all()).isEqualTo(3);
        assertThat(badSetting.stdout().strip()).startsWith("PGBACKUP UNKNOWN - PG_BACKUP_CHECK_READY_FILES='lots'").doesNotContain("\n");

        CliProcess.Result badFlag = CliProcess.run(Map.of("PG_BACKUP_DIR", work.toString()), "check", "--bogus");
        assertThat(badFlag.exitCode()).as(badFlag.all()).isEqualTo(3);
        assertThat(badFlag.stdout()).startsWith("PGBACKUP UNKNOWN - ");
        // Other commands keep exit 2 for usage errors.
        assertThat(CliProcess.run(Map.of("PG_BACKUP_DIR", work.toString()), "status", "--bogus").exitCode()).isEqualTo(2);
    }

    private static List<JsonNode> read(Path events) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        if (!Files.exists(events)) {
            return List.of();
        }
        return Files.readAllLines(events).stream().filter(l -> !l.isBlank()).map(l -> {
            try {
                return mapper.readTree(l);
            } catch (Exception e) {
                throw new IllegalStateException(l, e);
            }
        }).toList();
    }
}
