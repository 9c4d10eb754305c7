package io.pgbackup.core.internal.archive;

import java.util.List;

/** A path through timelines: which timeline each segment number is read from. */
public record TimelinePath(List<Step> steps, long segmentSize) {
    public TimelinePath {
        steps = List.copyOf(steps);
    }

    /** {@code timeline} holds the segments from {@code firstSegment} on (until the next step). */
    public record Step(int timeline, long firstSegment) {
    }

    public int timelineOf(long segno) {
        int tli = steps.get(0).timeline();
        for (Step s : steps) {
            if (segno >= s.firstSegment()) {
                tli = s.timeline();
            }
        }
        return tli;
    }

    /** The file name of segment {@code segno} on this path. */
    public WalSegmentName segment(long segno) {
        return new WalSegmentName(timelineOf(segno), segno, segmentSize);
    }

    public List<Integer> timelines() {
        return steps.stream().map(Step::timeline).toList();
    }

    /** The newest segment the archive holds on this path, at least {@code from}. */
    public long newestArchived(WalArchive archive, long from) {
        return newestArchived(archive, from, Long.MAX_VALUE, e -> false);
    }

    /**
     * The newest segment the archive holds on this path, at least {@code from}. A sharded view
     * lists log by log from {@code from}'s and stops after the log holding {@code until}, after
     * the first log with an entry past {@code from} for which {@code enough} holds, or at the
     * second of two logs in a row holding nothing on the path (so a log missing only its last
     * segment, or a whole missing log, still shows as a gap, never as the archive's end). Callers cap the result at {@code until} themselves; a full
     * view answers from its listing.
     */
    public long newestArchived(WalArchive archive, long from, long until, java.util.function.Predicate<WalArchive.Entry> enough) {
        return ArchiveEnd.newestArchived(this, archive, from, until, enough);
    }
}
