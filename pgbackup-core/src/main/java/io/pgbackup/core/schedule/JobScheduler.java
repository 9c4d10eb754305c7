package io.pgbackup.core.schedule;

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
}
