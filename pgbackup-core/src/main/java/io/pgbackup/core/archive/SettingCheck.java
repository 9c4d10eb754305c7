package io.pgbackup.core.archive;

import java.util.Objects;

/**
 * One archiving setting as the live cluster has it, against what pgbackup wants.
 *
 * @param name         the setting, e.g. {@code archive_mode}
 * @param expected     the value pgbackup recommends, as written in postgresql.conf (unquoted)
 * @param actual       the cluster's current value ({@code pg_settings.setting})
 * @param status       whether {@code actual} does the job
 * @param needsRestart whether changing this setting takes a server restart rather than a reload
 */
public record SettingCheck(String name, String expected, String actual, Status status, boolean needsRestart) {
    public SettingCheck {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(actual, "actual");
        Objects.requireNonNull(status, "status");
    }

    public boolean ok() {
        return status == Status.OK;
    }

    public enum Status {
        /** The cluster's value does the job (it may be stronger than asked, e.g. {@code wal_level = logical}). */
        OK,
        /** The setting is off or empty: {@code archive_mode = off}, no {@code archive_command}, {@code archive_timeout = 0}. */
        MISSING,
        /** The setting holds another value: an {@code archive_command} calling something else, too few WAL senders. */
        DIFFERENT
    }
}
