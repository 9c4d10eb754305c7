package io.pgbackup.core.schedule;

import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to schedule.
 *
 * @param launcher          the absolute command that runs pgbackup ({@code /opt/pgbackup/bin/pgbackup},
 *                          or {@code java -jar /path/pgbackup.jar})
 * @param environment       the variables the jobs need; {@code PG_PASSWORD} is never written (use ~/.pgpass)
 * @param launchAgentsDir   where {@code --install} puts launchd plists ({@code ~/Library/LaunchAgents})
 */
public record ScheduleRequest(ScheduleFormat format, LocalTime backupAt, DayOfWeek cleanupDay, LocalTime cleanupAt,
                              boolean hourlySync, List<String> launcher, Map<String, String> environment,
                              Path launchAgentsDir) {
    public ScheduleRequest {
        Objects.requireNonNull(format);
        Objects.requireNonNull(backupAt);
        Objects.requireNonNull(cleanupDay);
        Objects.requireNonNull(cleanupAt);
        launcher = List.copyOf(launcher);
        environment = Map.copyOf(environment);
        Objects.requireNonNull(launchAgentsDir);
    }

    /** The spec's defaults: backup daily at 02:00, cleanup Sundays at 03:00, no hourly sync. */
    public static ScheduleRequest defaults(ScheduleFormat format, List<String> launcher, Map<String, String> environment,
                                           Path launchAgentsDir) {
        return new ScheduleRequest(format, LocalTime.of(2, 0), DayOfWeek.SUNDAY, LocalTime.of(3, 0), false, launcher,
                environment, launchAgentsDir);
    }
}
