package io.pgbackup.core.schedule;

import io.pgbackup.core.schedule.JobScheduler.Schedule.ScheduleFormat;

import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * {@code schedule}: a daily backup, a weekly cleanup and optionally an hourly sync, as a marked
 * crontab block, as systemd user timers or as launchd agents. The jobs carry the {@code PG_*}
 * settings they need except the password, which must come from {@code ~/.pgpass}.
 *
 * <p>{@link #plan} only computes; {@link #install} merges the block into the user's crontab
 * ({@code crontab -l}, then {@code crontab FILE}) replacing an earlier block, or writes the unit
 * files or plists.
 */
public interface JobScheduler {
    /** The first line of the crontab block; {@link #END_MARK} ends it. */
    String BEGIN_MARK = "# BEGIN pgbackup jobs (written by 'pgbackup schedule --install'; re-running it replaces this block)";
    String END_MARK = "# END pgbackup jobs";
    /** The launchd label of the backup job; the cleanup and sync jobs append {@code -cleanup}, {@code -sync}. */
    String LABEL = "com.shared.pgbackup";

    Schedule plan(ScheduleRequest request);

    /** Installs {@code schedule}: merges the crontab block, or writes the unit files or plists. */
    InstallResult install(Schedule schedule);

    /**
     * What to schedule.
     *
     * @param launcher          the absolute command that runs pgbackup ({@code /opt/pgbackup/bin/pgbackup},
     *                          or {@code java -jar /path/pgbackup.jar})
     * @param environment       the variables the jobs need; {@code PG_PASSWORD} is never written (use ~/.pgpass)
     * @param launchAgentsDir   where {@code --install} puts launchd plists ({@code ~/Library/LaunchAgents})
     * @param systemdUnitDir    where {@code --install} puts systemd units ({@code ~/.config/systemd/user})
     */
    record ScheduleRequest(ScheduleFormat format, LocalTime backupAt, DayOfWeek cleanupDay, LocalTime cleanupAt,
                                  boolean hourlySync, List<String> launcher, Map<String, String> environment,
                                  Path launchAgentsDir, Path systemdUnitDir) {
        public ScheduleRequest {
            Objects.requireNonNull(format);
            Objects.requireNonNull(backupAt);
            Objects.requireNonNull(cleanupDay);
            Objects.requireNonNull(cleanupAt);
            launcher = List.copyOf(launcher);
            environment = Map.copyOf(environment);
            Objects.requireNonNull(launchAgentsDir);
            Objects.requireNonNull(systemdUnitDir);
        }

        /** Without a systemd unit directory: {@code ~/.config/systemd/user} of this JVM's user. */
        public ScheduleRequest(ScheduleFormat format, LocalTime backupAt, DayOfWeek cleanupDay, LocalTime cleanupAt,
                               boolean hourlySync, List<String> launcher, Map<String, String> environment, Path launchAgentsDir) {
            this(format, backupAt, cleanupDay, cleanupAt, hourlySync, launcher, environment, launchAgentsDir,
                    Path.of(System.getProperty("user.home"), ".config", "systemd", "user"));
        }

        /** The spec's defaults: backup daily at 02:00, cleanup Sundays at 03:00, no hourly sync. */
        public static ScheduleRequest defaults(ScheduleFormat format, List<String> launcher, Map<String, String> environment,
                                               Path launchAgentsDir) {
            return new ScheduleRequest(format, LocalTime.of(2, 0), DayOfWeek.SUNDAY, LocalTime.of(3, 0), false, launcher,
                    environment, launchAgentsDir);
        }
    }

    /** What {@code schedule --install} did, one line per action, and what the user still has to do. */
    record InstallResult(List<String> actions, List<String> nextSteps) {
        public InstallResult {
            actions = List.copyOf(actions);
            nextSteps = List.copyOf(nextSteps);
        }
    }

    /**
     * The generated job definitions, before anything is installed.
     *
     * @param jobs          what runs when
     * @param crontabBlock  for cron: the marked block merged into the user's crontab; empty for launchd
     * @param files         for launchd: each plist and where {@code --install} writes it
     * @param notes         what the user must know (password via ~/.pgpass, launchctl commands)
     */
    record Schedule(ScheduleFormat format, List<Job> jobs, String crontabBlock, List<File> files, List<String> notes) {
        public Schedule {
            jobs = List.copyOf(jobs);
            files = List.copyOf(files);
            notes = List.copyOf(notes);
        }

        /** One scheduled command. {@code when} is for people ("daily at 02:00"). */
        public record Job(String name, String label, List<String> command, String when, Path stdoutLog, Path stderrLog,
                          Map<String, String> environment) {
            public Job {
                command = List.copyOf(command);
                environment = Map.copyOf(environment);
            }
        }

        /** A file to write: a launchd plist. */
        public record File(Path path, String content) {
        }

        /** How jobs are scheduled: a crontab block (Linux), launchd agents (macOS) or systemd user timers (Linux, on request). */
        public enum ScheduleFormat {
            CRON, LAUNCHD, SYSTEMD;

            /** launchd on macOS, cron everywhere else. */
            public static ScheduleFormat defaultFor(String osName) {
                return osName.toLowerCase(Locale.ROOT).contains("mac") ? LAUNCHD : CRON;
            }
        }
    }
}
