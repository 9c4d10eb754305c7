package io.pgbackup.core.internal.archive;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Predicate;

/** Where the archive ends along a {@link TimelinePath}: {@link TimelinePath#newestArchived}. */
final class ArchiveEnd {
    private ArchiveEnd() {
    }

    static long newestArchived(TimelinePath path, WalArchive archive, long from, long until,
                               Predicate<WalArchive.Entry> enough) {
        long segmentSize = path.segmentSize();
        long newest = from;
        if (!archive.isSharded()) {
            for (int tli : path.timelines()) {
                for (WalSegmentName s : archive.segments(tli, segmentSize)) {
                    if (path.timelineOf(s.segmentNumber()) == tli) {
                        newest = Math.max(newest, s.segmentNumber());
                    }
                }
            }
            return newest;
        }
        long perLog = 0x1_0000_0000L / segmentSize;
        boolean previousEmpty = false;
        for (long log = from / perLog; log <= until / perLog; log++) {
            boolean any = false;
            boolean done = false;
            for (int tli : timelinesOfLog(path, log, perLog)) {
                for (WalSegmentName s : archive.segmentsOfLog(tli, log, segmentSize)) {
                    if (path.timelineOf(s.segmentNumber()) == tli) {
                        any = true;
                        newest = Math.max(newest, s.segmentNumber());
                        if (s.segmentNumber() > from && archive.find(s.fileName()).map(enough::test).orElse(false)) {
                            done = true;
                        }
                    }
                }
            }
            // One empty log may be a lost one (4 GiB at 16 MiB segments) with WAL after it: look at
            // the next before calling it the archive's end, so the plan shows the gap instead of
            // quietly restoring to a point before it. Two empty logs in a row end the archive.
            if (done || (!any && previousEmpty)) {
                break;
            }
            previousEmpty = !any;
        }
        return newest;
    }

    /** The timelines this path reads some segment of log {@code log} from, in path order. */
    private static List<Integer> timelinesOfLog(TimelinePath path, long log, long perLog) {
        LinkedHashSet<Integer> out = new LinkedHashSet<>();
        long first = log * perLog;
        long last = first + perLog - 1;
        for (int i = 0; i < path.steps().size(); i++) {
            long start = path.steps().get(i).firstSegment();
            long end = i + 1 < path.steps().size() ? path.steps().get(i + 1).firstSegment() - 1 : Long.MAX_VALUE;
            if (start <= last && end >= first) {
                out.add(path.steps().get(i).timeline());
            }
        }
        return List.copyOf(out);
    }
}
