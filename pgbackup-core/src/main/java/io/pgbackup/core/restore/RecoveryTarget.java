package io.pgbackup.core.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;

/** Where recovery stops: the end of the archived WAL, or one of PostgreSQL's recovery targets. */
public sealed interface RecoveryTarget {
    /** The {@code recovery_target*} settings for postgresql.auto.conf; empty for {@link EndOfWal}. */
    Map<String, String> settings();

    /** One line for people. */
    String describe();

    /** Replay everything archived, then promote (PostgreSQL's default without a target). */
    record EndOfWal() implements RecoveryTarget {
        public Map<String, String> settings() {
            return Map.of();
        }

        public String describe() {
            return "end of the archived WAL";
        }
    }

    /** Stop at the first commit after {@code time}; written with an explicit offset so no time zone can shift it. */
    record Time(OffsetDateTime time) implements RecoveryTarget {
        private static final DateTimeFormatter PG = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx");

        public Map<String, String> settings() {
            return Map.of("recovery_target_time", PG.format(time));
        }

        public String describe() {
            return "time " + PG.format(time);
        }
    }

    record Lsn(long lsn) implements RecoveryTarget {
        public Map<String, String> settings() {
            return Map.of("recovery_target_lsn", formatLsn(lsn));
        }

        public String describe() {
            return "LSN " + formatLsn(lsn);
        }
    }

    record Xid(long xid) implements RecoveryTarget {
        public Map<String, String> settings() {
            return Map.of("recovery_target_xid", Long.toString(xid));
        }

        public String describe() {
            return "transaction " + xid;
        }
    }

    /** A restore point made with {@code SELECT pg_create_restore_point('name')}. */
    record Name(String name) implements RecoveryTarget {
        public Map<String, String> settings() {
            return Map.of("recovery_target_name", name);
        }

        public String describe() {
            return "restore point '" + name + "'";
        }
    }

    /** Stop as soon as the backup is consistent: the backup itself, no archived WAL replayed. */
    record Immediate() implements RecoveryTarget {
        public Map<String, String> settings() {
            Map<String, String> s = new LinkedHashMap<>();
            s.put("recovery_target", "immediate");
            return s;
        }

        public String describe() {
            return "immediate (consistency of the backup)";
        }
    }

    /**
     * Parses {@code --target-time}: the spec's {@code YYYY-MM-DD HH:MM:SS} in {@code zone} (the
     * machine's), or ISO-8601 with or without an offset ({@code 2026-02-02T14:30:00+01:00}).
     */
    static Time parseTime(String text, ZoneId zone) {
        String t = text.trim();
        try {
            return new Time(OffsetDateTime.parse(t.replace(' ', 'T')));
        } catch (DateTimeParseException withoutOffset) {
            try {
                return new Time(LocalDateTime.parse(t.replace(' ', 'T')).atZone(zone).toOffsetDateTime());
            } catch (DateTimeParseException e) {
                throw usage("--target-time '" + text + "' is not a time: use \"YYYY-MM-DD HH:MM:SS\" (local time) or ISO-8601 such as 2026-02-02T14:30:00+01:00");
            }
        }
    }

    /** PostgreSQL's {@code 0/3000028} text of an LSN (as internal WalSegmentName writes it; the API does not reach into internal). */
    private static String formatLsn(long lsn) {
        return String.format(Locale.ROOT, "%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }

    private static long lsnValue(String text) {
        String[] parts = text.trim().split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
    }

    static Lsn parseLsn(String text) {
        try {
            return new Lsn(lsnValue(text));
        } catch (IllegalArgumentException e) {
            throw usage("--target-lsn '" + text + "' is not an LSN: use the form 0/3000028 (see pg_current_wal_lsn())");
        }
    }

    static Xid parseXid(String text) {
        try {
            long xid = Long.parseLong(text.trim());
            if (xid < 3) {
                throw new NumberFormatException();
            }
            return new Xid(xid);
        } catch (NumberFormatException e) {
            throw usage("--target-xid '" + text + "' is not a transaction id: use a number such as 7432 (see txid_current())");
        }
    }

    static Name parseName(String text) {
        if (text.isBlank() || text.length() > 63) {
            throw usage("--target-name '" + text + "' is not a restore point name: use the name given to pg_create_restore_point()");
        }
        return new Name(text);
    }

    private static PgBackupException usage(String message) {
        return new PgBackupException(ErrorCode.INVALID_ARGUMENT, message);
    }

    /**
     * Builds a target from the command line's choices; at most one may be given.
     *
     * @param immediate the value of {@code --target}, which only accepts {@code immediate}
     */
    static RecoveryTarget fromOptions(String time, String lsn, String xid, String name, String immediate, ZoneId zone) {
        int given = (time != null ? 1 : 0) + (lsn != null ? 1 : 0) + (xid != null ? 1 : 0) + (name != null ? 1 : 0)
                + (immediate != null ? 1 : 0);
        if (given > 1) {
            throw usage("give one recovery target: --target-time, --target-lsn, --target-xid, --target-name or --target immediate");
        }
        if (time != null) {
            return parseTime(time, zone);
        }
        if (lsn != null) {
            return parseLsn(lsn);
        }
        if (xid != null) {
            return parseXid(xid);
        }
        if (name != null) {
            return parseName(name);
        }
        if (immediate != null) {
            if (!immediate.equals("immediate")) {
                throw usage("--target '" + immediate + "' is not known: the only value is immediate");
            }
            return new Immediate();
        }
        return new EndOfWal();
    }

    /** What PostgreSQL does on reaching the target: {@code recovery_target_action}. */
    enum TargetAction {
        PROMOTE, PAUSE, SHUTDOWN;

        public String setting() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static TargetAction parse(String text) {
            for (TargetAction a : values()) {
                if (a.setting().equals(text.trim().toLowerCase(Locale.ROOT))) {
                    return a;
                }
            }
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--target-action '" + text
                    + "' is not known: use promote, pause or shutdown");
        }
    }

    /**
     * The timeline recovery follows, PostgreSQL's {@code recovery_target_timeline}: {@code latest} (the
     * default, the newest timeline in the archive), {@code current} (the backup's own), or a number.
     * After a restore that promoted (a new timeline in the archive), {@code current} or the old number
     * is how to replay the original timeline past the point where the restored copy branched off.
     *
     * @param setting the value written to postgresql.auto.conf
     */
    record TargetTimeline(String setting) {
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
}
