package io.pgbackup.core.schedule;

import java.util.Locale;

/** How jobs are scheduled: a crontab block (Linux) or launchd agents (macOS). */
public enum ScheduleFormat {
    CRON, LAUNCHD;

    /** launchd on macOS, cron everywhere else. */
    public static ScheduleFormat defaultFor(String osName) {
        return osName.toLowerCase(Locale.ROOT).contains("mac") ? LAUNCHD : CRON;
    }
}
