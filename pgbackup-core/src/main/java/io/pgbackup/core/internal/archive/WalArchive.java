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
 *
 * <p>Two ways to build it, neither changing the flat key layout ({@code wal_archive/<name><suffix>}):
 * <ul>
 *   <li>{@link #read}: one listing of the whole archive, for the commands that judge all of it
 *       (status, cleanup, verify). A command reads it once and hands the snapshot around.</li>
 *   <li>{@link #sharded}: nothing listed up front. A segment's "log" (its first 16 hex digits:
 *       timeline and log) is listed when a name in it is first asked for: in a bucket, a prefix
 *       {@code wal_archive/TTTTTTTTLLLLLLLL} returns only that log's segments (256 at 16 MiB), the
 *       sharding pgBackRest gets from its {@code 0000000100000000/} folders, without a migration.
 *       History files are asked for by name, as PostgreSQL probes them. Restore plans with this, so
 *       it asks only for the logs from the backup onward.</li>
 * </ul>
 */
public final class WalArchive {
    /** A log prefix: timeline and log, the first 16 hex digits of a segment name. */
    private static final java.util.regex.Pattern LOG_PREFIX = java.util.regex.Pattern.compile("[0-9A-F]{16}.*");

    private final Repository repository;
    private final TreeMap<String, Entry> entries;
    /** Hidden objects of the listing (archive calls in progress); empty for a sharded view. */
    private final List<Storage.StoredObject> hidden;
    private final long storedBytes;
    /** Sharded view only: the log prefixes listed and the other names asked for so far. */
    private final java.util.Set<String> loaded;
    private final boolean sharded;
    /** Sealed .history files not opened for want of the private key, once {@link #skippingSealedHistories} asked for it. */
    private final java.util.Set<String> unopenedHistories = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean skipSealedHistories;
    /** Parsed history files, by timeline: immutable once archived, and asked for again by every timeline question. */
    private final Map<Integer, List<TimelineSwitch>> histories = new java.util.concurrent.ConcurrentHashMap<>();

    private WalArchive(Repository repository, TreeMap<String, Entry> entries, List<Storage.StoredObject> hidden, long storedBytes,
                       boolean sharded) {
        this.repository = repository;
        this.entries = entries;
        this.hidden = hidden;
        this.storedBytes = storedBytes;
        this.loaded = new java.util.HashSet<>();
        this.sharded = sharded;
    }

    /** One archived file: its name as PostgreSQL knows it (no suffix), its key, how it is compressed, its size, when it was archived. */
    public record Entry(String name, String key, Compression compression, long size, Instant archivedAt) {
    }

    /** A switch to a new timeline, from a {@code .history} file line: the parent, and where the child branched off. */
    public record TimelineSwitch(int parentTimeline, long switchLsn) {
    }

    /** Lists {@code wal_archive/} once; hidden names (archive calls in progress) are not part of the view. */
    public static WalArchive read(Repository repository) {
        TreeMap<String, Entry> entries = new TreeMap<>();
        List<Storage.StoredObject> hidden = new ArrayList<>();
        long bytes = 0;
        try {
            for (Storage.StoredObject o : repository.storage().list(Repository.WAL_PREFIX)) {
                bytes += o.size();
                if (!add(entries, o)) {
                    hidden.add(o);
                }
            }
        } catch (IOException e) {
            throw Repository.ioFailure("cannot read " + repository.locationOf(Repository.WAL_PREFIX), e);
        }
        return new WalArchive(repository, entries, List.copyOf(hidden), bytes, false);
    }

    /**
     * A view that lists nothing up front: each log prefix is listed when first needed, each history
     * (or other) file is asked for by name. For restore, which needs only the logs from a backup on.
     */
    public static WalArchive sharded(Repository repository) {
        if (repository.rawStorage() instanceof io.pgbackup.core.internal.storage.LocalStorage) {
            // A directory has no prefix listing: each would read every name again. One pass it is.
            return read(repository);
        }
        return new WalArchive(repository, new TreeMap<>(), List.of(), -1, true);
    }

    /** Adds a listed object to the view; false for what is not part of it (hidden, nested). */
    private static boolean add(Map<String, Entry> entries, Storage.StoredObject o) {
        String file = o.key().substring(Repository.WAL_PREFIX.length());
        if (file.startsWith(".") || file.contains("/")) {
            return false;
        }
        StoredName stored = StoredName.parse(file);
        // Two compressions of one name (a re-archive under another PG_BACKUP_COMPRESS): the first found wins.
        entries.putIfAbsent(stored.stem(), new Entry(stored.stem(), o.key(), stored.compression(), o.size(), o.lastModified()));
        return true;
    }

    /** Whether this view lists log by log ({@link #sharded}) rather than holding the whole archive. */
    public boolean isSharded() {
        return sharded;
    }

    /** Sharded view: lists the log holding {@code name} (or asks for {@code name} itself) unless done already. */
    private void load(String name) {
        if (!sharded) {
            return;
        }
        synchronized (loaded) {
            if (LOG_PREFIX.matcher(name).matches()) {
                String prefix = name.substring(0, 16);
                if (loaded.add(prefix)) {
                    try {
                        for (Storage.StoredObject o : repository.storage().list(Repository.WAL_PREFIX + prefix)) {
                            add(entries, o);
                        }
                    } catch (IOException e) {
                        loaded.remove(prefix);
                        throw Repository.ioFailure("cannot read " + repository.locationOf(Repository.WAL_PREFIX + prefix), e);
                    }
                }
            } else if (loaded.add(name)) {
                // One request per compression suffix (as wal-fetch asks), never a listing of the archive.
                try {
                    for (Compression c : Compression.values()) {
                        Optional<Storage.StoredObject> o = repository.storage().stat(Repository.walKey(name + c.suffix()));
                        if (o.isPresent()) {
                            add(entries, o.get());
                            break;
                        }
                    }
                } catch (IOException e) {
                    loaded.remove(name);
                    throw Repository.ioFailure("cannot read " + repository.locationOf(Repository.walKey(name)), e);
                }
            }
        }
    }

    /** Every object listed under {@code wal_archive/} that is not part of the view (archive calls in progress); full view only. */
    public List<Storage.StoredObject> hidden() {
        requireFull("hidden()");
        return hidden;
    }

    /** Bytes of everything listed under {@code wal_archive/}, hidden files included; full view only. */
    public long storedBytes() {
        requireFull("storedBytes()");
        return storedBytes;
    }

    private void requireFull(String what) {
        if (sharded) {
            throw new IllegalStateException(what + " needs the whole archive: use WalArchive.read");
        }
    }

    /** The decoded content of an archived file. */
    public InputStream open(Entry entry) throws IOException {
        return repository.openDecoded(entry.key());
    }

    public Repository repository() {
        return repository;
    }

    /** Every archived file by name; full view only (a sharded view holds only what was asked for). */
    public Map<String, Entry> entries() {
        requireFull("entries()");
        return Collections.unmodifiableMap(entries);
    }

    public Optional<Entry> find(String name) {
        load(name);
        synchronized (loaded) {
            return Optional.ofNullable(entries.get(name));
        }
    }

    /** Archived segments (not history, backup or partial files) of {@code timeline}, in order; full view only. */
    public List<WalSegmentName> segments(int timeline, long segmentSize) {
        requireFull("segments()");
        List<WalSegmentName> out = new ArrayList<>();
        for (String name : entries.keySet()) {
            WalSegmentName.parse(name, segmentSize).filter(s -> s.timeline() == timeline).ifPresent(out::add);
        }
        return out;
    }

    /** Archived segments of {@code timeline} in log {@code log}, listing that log if this view is sharded. */
    List<WalSegmentName> segmentsOfLog(int timeline, long log, long segmentSize) {
        String prefix = String.format(java.util.Locale.ROOT, "%08X%08X", timeline, log);
        load(prefix);
        List<WalSegmentName> out = new ArrayList<>();
        synchronized (loaded) {
            for (String name : entries.subMap(prefix, true, prefix + "\uffff", false).keySet()) {
                WalSegmentName.parse(name, segmentSize).ifPresent(out::add);
            }
        }
        return out;
    }

    /**
     * The timeline recovery with {@code recovery_target_timeline = 'latest'} ends on, starting from
     * {@code timeline}: the highest one whose history descends from it.
     */
    public int latestTimelineFrom(int timeline) {
        int latest = timeline;
        if (sharded) {
            // As PostgreSQL's findNewestTimeLine: ask for each next history file until one is missing.
            for (int tli = timeline + 1; find(String.format("%08X.history", tli)).isPresent(); tli++) {
                if (history(tli).stream().anyMatch(s -> s.parentTimeline() == timeline)) {
                    latest = tli;
                }
            }
            return latest;
        }
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

    /**
     * The timeline {@code recovery_target_timeline = 'latest'} makes PostgreSQL recover to from a
     * backup on {@code timeline}: as its findNewestTimeLine, the last of the history files that
     * follow one another from {@code timeline + 1} on, whatever their ancestry (PostgreSQL checks that
     * afterwards, and refuses to start on a timeline that is not a child of the backup's).
     */
    public int newestTimeline(int timeline) {
        int newest = timeline;
        for (int tli = timeline + 1; tli != 0 && find(String.format("%08X.history", tli)).isPresent(); tli++) {
            newest = tli;
        }
        return newest;
    }

    /**
     * For a key-less verify: a sealed {@code .history} file this host cannot open counts as no history
     * (only the timelines it can read are followed) and is remembered, instead of failing.
     */
    public WalArchive skippingSealedHistories() {
        skipSealedHistories = true;
        return this;
    }

    /** The sealed .history files skipped so far, by name, in order. */
    public List<String> unopenedHistories() {
        return unopenedHistories.stream().sorted().toList();
    }

    /** The ancestors of {@code timeline}, oldest first, from its history file; empty for timeline 1 or no file. */
    public List<TimelineSwitch> history(int timeline) {
        List<TimelineSwitch> known = histories.get(timeline);
        if (known != null) {
            return known;
        }
        List<TimelineSwitch> read = readHistory(timeline);
        histories.put(timeline, read);
        return read;
    }

    private List<TimelineSwitch> readHistory(int timeline) {
        String name = String.format("%08X.history", timeline);
        Entry entry = find(name).orElse(null);
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
        } catch (io.pgbackup.core.internal.crypto.SealedFormat.NoKeyException e) {
            if (!skipSealedHistories) {
                throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, repository.locationOf(entry.key())
                        + " is not a readable timeline history: " + e.getMessage(), e);
            }
            unopenedHistories.add(name);
            return List.of();
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
        return pathTo(timeline, latestTimelineFrom(timeline), segmentSize);
    }

    /**
     * The timelines from {@code timeline} to {@code target}, as the history file of {@code target}
     * names them; only {@code timeline} itself when {@code target} does not descend from it.
     */
    public TimelinePath pathTo(int timeline, int target, long segmentSize) {
        int latest = descendsFrom(target, timeline) ? target : timeline;
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

    /** Whether {@code timeline} is {@code ancestor} or its history names {@code ancestor}. */
    public boolean descendsFrom(int timeline, int ancestor) {
        return timeline == ancestor || history(timeline).stream().anyMatch(s -> s.parentTimeline() == ancestor);
    }

    /** The timelines that have a history file in this (full) view, in order. */
    public List<Integer> timelinesWithHistory() {
        requireFull("timelinesWithHistory()");
        List<Integer> out = new ArrayList<>();
        for (String name : entries.keySet()) {
            if (name.matches("[0-9A-F]{8}\\.history")) {
                out.add(Integer.parseInt(name.substring(0, 8), 16));
            }
        }
        return out;
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
        public long newestArchived(WalArchive archive, long from, long until, java.util.function.Predicate<Entry> enough) {
            return ArchiveEnd.newestArchived(this, archive, from, until, enough);
        }
    }
}
