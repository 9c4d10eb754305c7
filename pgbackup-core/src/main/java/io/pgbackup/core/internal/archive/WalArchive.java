package io.pgbackup.core.internal.archive;

import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.internal.storage.StoredName;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A read-only view of {@code wal_archive/}: what is archived under which compression; how its
 * timelines branch is {@link #timelines()}. Hidden files are archive calls in progress and are
 * never part of the view.
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
    private final TimelineHistories timelines = new TimelineHistories(this);

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

    void requireFull(String what) {
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

    /** This view's timeline histories: how its timelines branch, read from its {@code .history} files. */
    public TimelineHistories timelines() {
        return timelines;
    }

    /**
     * For a key-less verify: a sealed {@code .history} file this host cannot open counts as no history
     * (only the timelines it can read are followed) and is remembered, instead of failing.
     */
    public WalArchive skippingSealedHistories() {
        timelines.skipSealed();
        return this;
    }
}
