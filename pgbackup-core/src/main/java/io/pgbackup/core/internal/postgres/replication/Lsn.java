package io.pgbackup.core.internal.postgres.replication;

/** A WAL position (XLogRecPtr), written as PostgreSQL writes it: {@code 16/B374D848}. */
public record Lsn(long value) implements Comparable<Lsn> {
    public static Lsn parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not a WAL position: " + text);
        }
        long high = Long.parseLong(text.substring(0, slash), 16);
        long low = Long.parseLong(text.substring(slash + 1), 16);
        if (high > 0xFFFF_FFFFL || low > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("not a WAL position: " + text);
        }
        return new Lsn(high << 32 | low);
    }

    /** The start of the WAL segment that holds this position. */
    public Lsn segmentStart(int walSegmentSize) {
        return new Lsn(value - Long.remainderUnsigned(value, walSegmentSize));
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return String.format("%X/%X", value >>> 32, value & 0xFFFF_FFFFL);
    }
}
