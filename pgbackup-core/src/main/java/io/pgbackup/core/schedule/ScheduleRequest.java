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
 * @param systemdUnitDir    where {@code --install} puts systemd units ({@code ~/.config/systemd/user})
 */
public record ScheduleRequest(ScheduleFormat format, LocalTime backupAt, DayOfWeek cleanupDay, LocalTime cleanupAt,
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
