package io.pgbackup.cli;

import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * schedule through the real jar. --install runs against a crontab stand-in put first on PATH
 * (a script keeping the table in a temp file): no real user's crontab is read or changed.
 */
class ScheduleCliTest {
    @TempDir
    Path work;

    private Map<String, String> env() throws Exception {
        Path repo = work.resolve("repo");
        new Repository(repo).createLayout();
        Path bin = Files.createDirectories(work.resolve("bin"));
        Path crontab = bin.resolve("crontab");
        Files.writeString(crontab, "#!/bin/sh\nstore='" + work.resolve("table") + "'\n"
                + "if [ \"$1\" = -l ]; then [ -f \"$store\" ] && exec cat \"$store\"; echo \"no crontab for $(id -un)\" >&2; exit 1; fi\n"
                + "cp \"$1\" \"$store\"\n");
        Files.setPosixFilePermissions(crontab, PosixFilePermissions.fromString("rwx------"));
        Map<String, String> env = new HashMap<>();
        env.put("PG_BACKUP_DIR", repo.toString());
        env.put("PG_USER_NAME", "backup");
        env.put("PG_PASSWORD", "not-in-any-file");
        env.put("HOME", work.resolve("home").toString());
        env.put("PATH", bin + ":" + System.getenv("PATH"));
        return env;
    }

    @Test
    void cronPrintsInstallsOnceAndReplacesOnRerun() throws Exception {
        Map<String, String> env = env();
        CliProcess.Result printed = CliProcess.run(env, "schedule", "--cron", "--launcher", "/opt/pgbackup/bin/pgbackup");
        assertThat(printed.exitCode()).as(printed.all()).isZero();
        assertThat(printed.stdout()).contains("0 2 * * * ").contains("0 3 * * 0 ").doesNotContain("0 * * * * ")
                .contains("'/opt/pgbackup/bin/pgbackup' 'backup' '--type' 'auto' >>'" + work.resolve("repo/logs/backup-stdout.log") + "'")
                .doesNotContain("not-in-any-file");
        assertThat(printed.stderr()).contains("~/.pgpass").contains("nothing installed");
        assertThat(work.resolve("table")).doesNotExist();

        for (int i = 0; i < 2; i++) {
            CliProcess.Result installed = CliProcess.run(env, "schedule", "--cron", "--install", "--sync-every-hour",
                    "--backup-at", "01:30", "--cleanup-at", "Sat 04:15", "--launcher", "/opt/pgbackup/bin/pgbackup");
            assertThat(installed.exitCode()).as(installed.all()).isZero();
            assertThat(installed.stderr()).contains(i == 0 ? "added the pgbackup block" : "replaced the pgbackup block");
        }
        String table = Files.readString(work.resolve("table"));
        assertThat(table.split("# BEGIN pgbackup jobs", -1)).hasSize(2);
        assertThat(table).contains("30 1 * * * ").contains("15 4 * * 6 ").contains("0 * * * * ").contains("'sync'")
                .doesNotContain("not-in-any-file");
    }

    @Test
    void launchdWritesPlistsOnlyWithInstallAndSaysLaunchctlIsMacOnly() throws Exception {
        Map<String, String> env = env();
        CliProcess.Result printed = CliProcess.run(env, "schedule", "--launchd");
        assertThat(printed.exitCode()).as(printed.all()).isZero();
        assertThat(printed.stdout()).contains("<key>StartCalendarInterval</key>").contains("com.shared.pgbackup-cleanup");
        assertThat(work.resolve("home/Library")).doesNotExist();

        CliProcess.Result installed = CliProcess.run(env, "schedule", "--launchd", "--install");
        assertThat(installed.exitCode()).as(installed.all()).isZero();
        assertThat(work.resolve("home/Library/LaunchAgents/com.shared.pgbackup.plist")).exists();
        assertThat(work.resolve("home/Library/LaunchAgents/com.shared.pgbackup-cleanup.plist")).exists();
        assertThat(installed.stderr()).contains("launchctl is macOS-only");
    }

    @Test
    void badTimesAreUsageErrors() throws Exception {
        Map<String, String> env = env();
        CliProcess.Result time = CliProcess.run(env, "schedule", "--backup-at", "2am");
        assertThat(time.exitCode()).isEqualTo(2);
        assertThat(time.stderr().strip()).isEqualTo("pgbackup: --backup-at '2am' is not a time HH:MM: use e.g. 02:00");
        CliProcess.Result day = CliProcess.run(env, "schedule", "--cleanup-at", "Someday 03:00");
        assertThat(day.exitCode()).isEqualTo(2);
        assertThat(day.stderr().strip()).contains("not a weekday");
        CliProcess.Result both = CliProcess.run(env, "schedule", "--cron", "--launchd");
        assertThat(both.exitCode()).isEqualTo(2);
    }
}
