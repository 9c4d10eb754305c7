package io.pgbackup.core.schedule;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The generated job definitions, before anything is installed.
 *
 * @param jobs          what runs when
 * @param crontabBlock  for cron: the marked block merged into the user's crontab; empty for launchd
 * @param files         for launchd: each plist and where {@code --install} writes it
 * @param notes         what the user must know (password via ~/.pgpass, launchctl commands)
 */
public record Schedule(ScheduleFormat format, List<Job> jobs, String crontabBlock, List<File> files, List<String> notes) {
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
}
