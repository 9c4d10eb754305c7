package io.pgbackup.core.schedule;

import java.util.Locale;

/** How jobs are scheduled: a crontab block (Linux), launchd agents (macOS) or systemd user timers (Linux, on request). */
public enum ScheduleFormat {
    CRON, LAUNCHD, SYSTEMD;

    /** launchd on macOS, cron everywhere else. */
    public static ScheduleFormat defaultFor(String osName) {
        return osName.toLowerCase(Locale.ROOT).contains("mac") ? LAUNCHD : CRON;
    }
}
