package io.pgbackup.core.internal.archive;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A WAL segment file name, {@code TTTTTTTTXXXXXXXXYYYYYYYY}: timeline, then the segment number split
 * into a "log" part and a segment-within-log part, each 8 hex digits.
 */
public record WalSegmentName(int timeline, long segmentNumber, long segmentSize) implements Comparable<WalSegmentName> {
    public static final long DEFAULT_SEGMENT_SIZE = 16L * 1024 * 1024;
    private static final Pattern NAME = Pattern.compile("([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})");

    /** Parses a bare segment name (no suffix); empty for history, backup and partial names. */
    public static Optional<WalSegmentName> parse(String name, long segmentSize) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        long segmentsPerLog = 0x1_0000_0000L / segmentSize;
        int timeline = (int) Long.parseLong(m.group(1), 16);
        long log = Long.parseLong(m.group(2), 16);
        long seg = Long.parseLong(m.group(3), 16);
        return Optional.of(new WalSegmentName(timeline, log * segmentsPerLog + seg, segmentSize));
    }

    /** The segment holding {@code lsn} on {@code timeline}. */
    public static WalSegmentName ofLsn(int timeline, long lsn, long segmentSize) {
        return new WalSegmentName(timeline, Long.divideUnsigned(lsn, segmentSize), segmentSize);
    }

    /** Parses {@code 0/3000028}-style LSN text. */
    public static long parseLsn(String text) {
        String[] parts = text.trim().split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
    }

    public static String formatLsn(long lsn) {
        return String.format(Locale.ROOT, "%X/%X", lsn >>> 32, lsn & 0xFFFFFFFFL);
    }

    public WalSegmentName next() {
        return new WalSegmentName(timeline, segmentNumber + 1, segmentSize);
    }

    public WalSegmentName onTimeline(int otherTimeline) {
        return new WalSegmentName(otherTimeline, segmentNumber, segmentSize);
    }

    /** First LSN of this segment. */
    public long startLsn() {
        return segmentNumber * segmentSize;
    }

    public String fileName() {
        long segmentsPerLog = 0x1_0000_0000L / segmentSize;
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, segmentNumber / segmentsPerLog,
                segmentNumber % segmentsPerLog);
    }

    @Override
    public int compareTo(WalSegmentName other) {
        int byTimeline = Integer.compare(timeline, other.timeline);
        return byTimeline != 0 ? byTimeline : Long.compare(segmentNumber, other.segmentNumber);
    }

    @Override
    public String toString() {
        return fileName();
    }
}
