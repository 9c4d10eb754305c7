package io.pgbackup.core.schedule;

import io.pgbackup.core.schedule.JobScheduler.Schedule;
import io.pgbackup.core.schedule.JobScheduler.Schedule.ScheduleFormat;
import io.pgbackup.core.schedule.JobScheduler.InstallResult;
import io.pgbackup.core.schedule.JobScheduler.ScheduleRequest;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * schedule --systemd: a service and a timer per job, checked by parsing them and, where this
 * machine has it, by systemd-analyze verify; --install writes into a given directory, idempotently.
 */
class SystemdScheduleTest {
    @TempDir
    Path work;
    Path repo;
    PgBackup pg;

    @BeforeEach
    void setUp() throws Exception {
        repo = work.resolve("repo with space");
        new Repository(repo).createLayout();
        pg = PgBackup.create(PgBackupConfig.builder().backupDir(repo).build());
    }

    private ScheduleRequest request(Map<String, String> env, boolean sync) {
        return new ScheduleRequest(ScheduleFormat.SYSTEMD, LocalTime.of(1, 30), DayOfWeek.SATURDAY, LocalTime.of(4, 5), sync,
                List.of(launcher().toString()), env, work.resolve("LaunchAgents"), work.resolve("units"));
    }

    /** A real executable, so systemd-analyze verify finds ExecStart's program. */
    private Path launcher() {
        return Path.of("/bin/true");
    }

    @Test
    void aServiceAndAPersistentTimerPerJobWithoutThePassword() throws Exception {
        Map<String, String> env = new LinkedHashMap<>(Map.of("PG_USER_NAME", "backup", "PG_PASSWORD", "s3cret-never-written",
                "PG_DB_NAME", "app%1", "PG_BACKUP_CONFIG", "/etc/pgbackup/db1.env", "HOME", "/home/x"));
        Schedule s = pg.scheduler().plan(request(env, true));
        assertThat(s.format()).isEqualTo(ScheduleFormat.SYSTEMD);
        assertThat(s.files()).extracting(f -> f.path().getFileName().toString()).containsExactly(
                "pgbackup-db1-backup.service", "pgbackup-db1-backup.timer", "pgbackup-db1-cleanup.service",
                "pgbackup-db1-cleanup.timer", "pgbackup-db1-sync.service", "pgbackup-db1-sync.timer");
        Map<String, Map<String, List<String>>> backup = parse(s.files().get(0).content());
        assertThat(backup.get("Service").get("Type")).containsExactly("oneshot");
        assertThat(backup.get("Service").get("ExecStart")).containsExactly("\"/bin/true\" \"backup\"");
        assertThat(backup.get("Service").get("Environment")).contains("\"PG_BACKUP_CONFIG=/etc/pgbackup/db1.env\"",
                "\"PG_DB_NAME=app%%1\"", "\"PG_BACKUP_DIR=" + repo + "\"");
        assertThat(backup.get("Service").get("StandardOutput")).containsExactly("append:" + repo + "/logs/backup-stdout.log");
        assertThat(backup.get("Service").get("StandardError")).containsExactly("append:" + repo + "/logs/backup-stderr.log");
        assertThat(parse(s.files().get(1).content()).get("Timer")).containsEntry("OnCalendar", List.of("*-*-* 01:30:00"))
                .containsEntry("Persistent", List.of("true")).containsEntry("Unit", List.of("pgbackup-db1-backup.service"));
        assertThat(parse(s.files().get(3).content()).get("Timer").get("OnCalendar")).containsExactly("Sat *-*-* 04:05:00");
        assertThat(parse(s.files().get(5).content()).get("Timer").get("OnCalendar")).containsExactly("*-*-* *:00:00");
        assertThat(parse(s.files().get(5).content()).get("Install").get("WantedBy")).containsExactly("timers.target");
        s.files().forEach(f -> assertThat(f.content()).doesNotContain("s3cret").doesNotContain("PG_PASSWORD=").doesNotContain("HOME="));

        // Without a configuration file the units are plain pgbackup-<job>.
        assertThat(pg.scheduler().plan(request(Map.of(), false)).files()).extracting(f -> f.path().getFileName().toString())
                .containsExactly("pgbackup-backup.service", "pgbackup-backup.timer", "pgbackup-cleanup.service", "pgbackup-cleanup.timer");
    }

    @Test
    void installWritesTheUnitsOnceAndSystemdAcceptsThem() throws Exception {
        Schedule s = pg.scheduler().plan(request(Map.of("PG_USER_NAME", "backup"), false));
        InstallResult first = pg.scheduler().install(s);
        assertThat(first.actions()).hasSize(4).allMatch(a -> a.startsWith("wrote "));
        assertThat(first.nextSteps()).contains("systemctl --user enable --now pgbackup-backup.timer pgbackup-cleanup.timer");
        InstallResult again = pg.scheduler().install(s);
        assertThat(again.actions()).hasSize(4).allMatch(a -> a.startsWith("unchanged "));
        for (Schedule.File f : s.files()) {
            assertThat(Files.readString(f.path())).isEqualTo(f.content());
        }

        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(analyze)) {
            return; // parse-checked above; systemd is not installed here
        }
        List<String> command = new ArrayList<>(List.of(analyze.toString(), "verify", "--man=no"));
        s.files().forEach(f -> command.add(f.path().toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).as("systemd-analyze's complaints about our units").doesNotContain("pgbackup-");
    }

    /** A unit file as sections of key to values; any line that is neither fails the test. */
    static Map<String, Map<String, List<String>>> parse(String unit) {
        Map<String, Map<String, List<String>>> out = new LinkedHashMap<>();
        Map<String, List<String>> section = null;
        for (String line : unit.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                section = out.computeIfAbsent(line.substring(1, line.length() - 1), k -> new LinkedHashMap<>());
                continue;
            }
            int eq = line.indexOf('=');
            assertThat(eq).as(line).isPositive();
            assertThat(section).as(line).isNotNull();
            section.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
        }
        return out;
    }
}
