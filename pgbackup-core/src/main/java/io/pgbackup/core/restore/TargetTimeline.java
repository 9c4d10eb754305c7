package io.pgbackup.core.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.util.OptionalInt;

/**
 * The timeline recovery follows, PostgreSQL's {@code recovery_target_timeline}: {@code latest} (the
 * default, the newest timeline in the archive), {@code current} (the backup's own), or a number.
 * After a restore that promoted (a new timeline in the archive), {@code current} or the old number
 * is how to replay the original timeline past the point where the restored copy branched off.
 *
 * @param setting the value written to postgresql.auto.conf
 */
public record TargetTimeline(String setting) {
    private static final String LATEST = "latest";
    private static final String CURRENT = "current";

    public TargetTimeline {
        if (setting == null || !(setting.equals(LATEST) || setting.equals(CURRENT) || setting.matches("[1-9][0-9]{0,9}")
                && Long.parseLong(setting) <= 0xFFFFFFFFL)) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--target-timeline " + setting + " is not latest, current or"
                    + " a timeline number: give one of them, the number in decimal as pg_control_checkpoint() shows it (e.g. 2)");
        }
    }

    public static TargetTimeline latest() {
        return new TargetTimeline(LATEST);
    }

    public static TargetTimeline current() {
        return new TargetTimeline(CURRENT);
    }

    public static TargetTimeline of(int timeline) {
        return new TargetTimeline(Integer.toUnsignedString(timeline));
    }

    /** From command-line text; null is {@link #latest()}. */
    public static TargetTimeline parse(String text) {
        return text == null ? latest() : new TargetTimeline(text.strip().toLowerCase(java.util.Locale.ROOT));
    }

    public boolean isLatest() {
        return setting.equals(LATEST);
    }

    public boolean isCurrent() {
        return setting.equals(CURRENT);
    }

    /** The timeline asked for by number, empty for latest and current. */
    public OptionalInt number() {
        return isLatest() || isCurrent() ? OptionalInt.empty() : OptionalInt.of(Integer.parseUnsignedInt(setting));
    }

    /** For messages: "the latest timeline", "the backup's own timeline", "timeline 3". */
    public String describe() {
        return isLatest() ? "the latest timeline" : isCurrent() ? "the backup's own timeline" : "timeline " + setting;
    }
}
