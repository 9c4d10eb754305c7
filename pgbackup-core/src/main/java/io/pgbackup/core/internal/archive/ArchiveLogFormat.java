package io.pgbackup.core.internal.archive;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one definition of a logs/wal_archive.log line, which archive_wal.sh and the archiver both
 * append to: {@code TIME LEVEL NAME RESULT ORIGIN[ DETAIL]}, TIME in UTC to the second. ORIGIN is
 * {@code size=N} for the script (the file's size, {@code -} when unknown) and {@code archiver} for
 * the archiver. {@link #shellLine()} is the script's rendering of the same fields.
 */
public final class ArchiveLogFormat {
    /** The fifth field of the archiver's lines. */
    public static final String ARCHIVER_ORIGIN = "archiver";
    /** Levels that also go to stderr (PostgreSQL's server log for the script). */
    static final List<String> LOUD_LEVELS = List.of("ERROR", "WARNING");
    /** strftime(3) for date(1), and the same for Java. */
    private static final String SHELL_TIME = "%Y-%m-%dT%H:%M:%SZ";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    /** Parses any line either writer produces: groups time, level, name, result, origin, detail (may be null). */
    public static final Pattern LINE = Pattern.compile(
            "(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ) (INFO|WARNING|ERROR) (\\S+) ([a-z][a-z-]*) (archiver|size=(?:\\d+|-))(?: (.*))?");

    private ArchiveLogFormat() {
    }

    public static String line(Instant at, String level, String name, String result, String origin, String detail) {
        return TIME.format(at.truncatedTo(ChronoUnit.SECONDS)) + " " + level + " " + name + " " + result + " " + origin
                + (detail.isEmpty() ? "" : " " + detail);
    }

    static boolean goesToStderr(String level) {
        return LOUD_LEVELS.contains(level);
    }

    /**
     * The line as a shell word for archive_wal.sh's {@code log LEVEL RESULT [DETAIL]} (uses
     * {@code $name} and {@code $size}): the same fields in the same order as {@link #line}.
     */
    static String shellLine() {
        return "\"$(date -u +" + SHELL_TIME + ") $1 $name $2 size=$size${3:+ $3}\"";
    }

    /** The {@code case} pattern of the levels that go to stderr in the script. */
    static String shellLoudLevels() {
        return String.join("|", LOUD_LEVELS);
    }
}
