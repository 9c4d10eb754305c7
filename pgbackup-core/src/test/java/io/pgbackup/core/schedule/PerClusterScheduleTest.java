package io.pgbackup.core.schedule;

import io.pgbackup.core.schedule.JobScheduler.Schedule;
import io.pgbackup.core.schedule.JobScheduler.Schedule.ScheduleFormat;
import io.pgbackup.core.schedule.JobScheduler.ScheduleRequest;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Two clusters on one host, each with its configuration file, keep their own crontab blocks. */
class PerClusterScheduleTest {
    @TempDir
    Path work;

    @Test
    void eachConfigurationFileHasItsOwnCrontabBlock() throws Exception {
        Path fake = JobSchedulerTest.fakeCrontab(Files.createDirectories(work.resolve("cron")));
        for (String name : List.of("db1", "db2", "db1")) {
            Path repo = work.resolve(name);
            new Repository(repo).createLayout();
            JobScheduler scheduler = PgBackup.builder(PgBackupConfig.builder().backupDir(repo).build())
                    .crontabProgram(fake.toString()).build().scheduler();
            Schedule s = scheduler.plan(new ScheduleRequest(ScheduleFormat.CRON, LocalTime.of(2, 0), DayOfWeek.SUNDAY,
                    LocalTime.of(3, 0), false, List.of("/opt/pgbackup/bin/pgbackup"),
                    Map.of("PG_BACKUP_CONFIG", "/etc/pgbackup/" + name + ".env"), work, work));
            assertThat(s.crontabBlock()).startsWith("# BEGIN pgbackup jobs for /etc/pgbackup/" + name + ".env (")
                    .endsWith("# END pgbackup jobs for /etc/pgbackup/" + name + ".env\n");
            scheduler.install(s);
        }
        String table = Files.readString(work.resolve("cron/table"));
        assertThat(table.split("# BEGIN pgbackup jobs for /etc/pgbackup/db1.env", -1)).hasSize(2);
        assertThat(table.split("# BEGIN pgbackup jobs for /etc/pgbackup/db2.env", -1)).hasSize(2);
        assertThat(table).contains("PG_BACKUP_CONFIG='/etc/pgbackup/db2.env'").contains("'" + work.resolve("db2/logs/backup-stdout.log") + "'");
    }
}
