package io.pgbackup.core.internal.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.internal.storage.StoredName;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A read-only view of {@code wal_archive/}: what is archived under which compression, and the
 * timeline history files that say how timelines branch. Hidden files are archive calls in
 * progress and are never part of the view.
 */
public final class WalArchive {
    private final Repository repository;
    private final Map<String, Entry> entries;

    private WalArchive(Repository repository, Map<String, Entry> entries) {
        this.repository = repository;
        this.entries = entries;
    }

    /** One archived file: its name as PostgreSQL knows it (no suffix), its key, how it is compressed, its size, when it was archived. */
    public record Entry(String name, String key, Compression compression, long size, Instant archivedAt) {
    }

    /** A switch to a new timeline, from a {@code .history} file line: the parent, and where the child branched off. */
    public record TimelineSwitch(int parentTimeline, long switchLsn) {
    }

    /** Lists {@code wal_archive/} once; hidden names (archive calls in progress) are not part of the view. */
    public static WalArchive read(Repository repository) {
        Map<String, Entry> entries = new TreeMap<>();
        try {
            for (Storage.StoredObject o : repository.storage().list(Repository.WAL_PREFIX)) {
                String file = o.key().substring(Repository.WAL_PREFIX.length());
                if (file.startsWith(".") || file.contains("/")) {
                    continue;
                }
                StoredName stored = StoredName.parse(file);
                // Two compressions of one name (a re-archive under another PG_BACKUP_COMPRESS): the first found wins.
                entries.putIfAbsent(stored.stem(), new Entry(stored.stem(), o.key(), stored.compression(), o.size(), o.lastModified()));
            }
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.locationOf(Repository.WAL_PREFIX), e);
        }
        return new WalArchive(repository, Collections.unmodifiableMap(entries));
    }

    /** The decoded content of an archived file. */
    public InputStream open(Entry entry) throws IOException {
        return repository.openDecoded(entry.key());
    }

    public Repository repository() {
        return repository;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Optional<Entry> find(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /** Archived segments (not history, backup or partial files) of {@code timeline}, in order. */
    public List<WalSegmentName> segments(int timeline, long segmentSize) {
        List<WalSegmentName> out = new ArrayList<>();
        for (String name : entries.keySet()) {
            WalSegmentName.parse(name, segmentSize).filter(s -> s.timeline() == timeline).ifPresent(out::add);
        }
        return out;
    }

    /**
     * The timeline recovery with {@code recovery_target_timeline = 'latest'} ends on, starting from
     * {@code timeline}: the highest one whose history descends from it.
     */
    public int latestTimelineFrom(int timeline) {
        int latest = timeline;
        for (String name : entries.keySet()) {
            if (name.matches("[0-9A-F]{8}\\.history")) {
                int tli = Integer.parseInt(name.substring(0, 8), 16);
                if (tli > latest && history(tli).stream().anyMatch(s -> s.parentTimeline() == timeline)) {
                    latest = tli;
                }
            }
        }
        return latest;
    }

    /** The ancestors of {@code timeline}, oldest first, from its history file; empty for timeline 1 or no file. */
    public List<TimelineSwitch> history(int timeline) {
        String name = String.format("%08X.history", timeline);
        Entry entry = entries.get(name);
        if (entry == null) {
            return List.of();
        }
        List<TimelineSwitch> switches = new ArrayList<>();
        try (InputStream in = open(entry)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 2 && !line.trim().startsWith("#") && fields[0].matches("\\d+")) {
                    switches.add(new TimelineSwitch(Integer.parseInt(fields[0]), WalSegmentName.parseLsn(fields[1])));
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, repository.locationOf(entry.key()) + " is not a readable timeline history: "
                    + e.getMessage(), e);
        }
        return switches;
    }

    /**
     * The timelines recovery with {@code recovery_target_timeline = 'latest'} reads from a backup on
     * {@code timeline}: that one, then each descendant named by the {@code .history} files, each
     * from the segment holding its switch point.
     */
    public TimelinePath pathFrom(int timeline, long segmentSize) {
        int latest = latestTimelineFrom(timeline);
        List<TimelinePath.Step> steps = new ArrayList<>(List.of(new TimelinePath.Step(timeline, Long.MIN_VALUE)));
        if (latest != timeline) {
            // history(latest) lists every ancestor, oldest first, with the LSN where its child branched off.
            List<TimelineSwitch> switches = history(latest);
            for (int i = 0; i < switches.size(); i++) {
                int child = i + 1 < switches.size() ? switches.get(i + 1).parentTimeline() : latest;
                if (switches.get(i).parentTimeline() >= timeline) {
                    steps.add(new TimelinePath.Step(child, Long.divideUnsigned(switches.get(i).switchLsn(), segmentSize)));
                }
            }
        }
        return new TimelinePath(steps, segmentSize);
    }

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
            long newest = from;
            for (int tli : timelines()) {
                for (WalSegmentName s : archive.segments(tli, segmentSize)) {
                    if (timelineOf(s.segmentNumber()) == tli) {
                        newest = Math.max(newest, s.segmentNumber());
                    }
                }
            }
            return newest;
        }
    }
}
