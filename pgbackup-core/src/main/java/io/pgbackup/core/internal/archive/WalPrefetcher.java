package io.pgbackup.core.internal.archive;

import io.pgbackup.core.internal.concurrent.Futures;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * restore_wal.sh's fetch-ahead ({@code pgbackup wal-fetch --ahead N}): while recovery replays, keeps
 * the next {@code N} segments of its timeline decompressed in {@code PGDATA/pg_wal/pgbackup_prefetch},
 * several downloads at once, so replay is not one request (and one decompression) at a time. The
 * window moves as restore_wal.sh takes files out. Stops at the end of the archive, when recovery
 * ends (its own files are removed, and the directory once nothing else is left in it), or when
 * nothing was taken for a while. One per directory. Only that directory, never through a link, and
 * only files of its own naming are deleted there ({@link PrefetchDirectory}).
 */
public final class WalPrefetcher {
    private static final Duration IDLE = Duration.ofSeconds(30);
    private static final int PARALLEL = 4;
    /** The archive's end was reached (restore writes it too when it prefetched up to the end). */
    public static final String END_MARKER = ".fetcher.end";

    private final WalFetcher fetcher;

    public WalPrefetcher(Repository repository) {
        this.fetcher = new WalFetcher(repository);
    }

    /** How a run ended: files fetched, and whether the archive's end was reached. */
    public record Result(int fetched, boolean endOfArchive) {
    }

    /**
     * Refuses (changing nothing) a {@code given} directory that is a link or not pgbackup's own
     * prefetch directory, PGDATA/pg_wal/pgbackup_prefetch as restore_wal.sh gives it.
     */
    public Result run(WalSegmentName after, int window, Path given) throws IOException {
        // restore_wal.sh creates it; one that is gone means recovery ended (never recreate it then).
        Optional<PrefetchDirectory> opened = PrefetchDirectory.open(given);
        if (opened.isEmpty()) {
            return new Result(0, false);
        }
        PrefetchDirectory own = opened.get();
        try (FileChannel channel = own.openLock();
             FileLock lock = channel.tryLock()) {
            if (lock == null) {
                return new Result(0, false);
            }
            Files.deleteIfExists(own.resolve(END_MARKER));
            own.writeMarker(".fetcher.pid", ProcessIdentity.current());
            markTrusted(own);
            return loop(after, window, own, given.toAbsolutePath());
        }
    }

    /** {@code asGiven}: the directory's path as given, by which recovery's end is seen (pg_wal may be a link elsewhere). */
    private Result loop(WalSegmentName after, int window, PrefetchDirectory own, Path asGiven) throws IOException {
        Path dir = own.path();
        ExecutorService pool = Pools.fixed("pgbackup-fetch-ahead", PARALLEL).executor();
        Set<WalSegmentName> produced = new LinkedHashSet<>();
        WalSegmentName next = after.next();
        WalSegmentName consumedUpTo = after;
        Instant lastProgress = Instant.now();
        int fetched = 0;
        // Woken when restore_wal.sh takes a file (or recovery ends and removes the directory).
        try (java.nio.file.WatchService taken = dir.getFileSystem().newWatchService()) {
            dir.register(taken, java.nio.file.StandardWatchEventKinds.ENTRY_DELETE);
            while (Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                if (recoveryEnded(asGiven)) {
                    // After recovery_end_command: what is fetched now would only linger in pg_wal.
                    pool.shutdownNow();
                    pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
                    own.deleteOwn();
                    return new Result(fetched, false);
                }
                // Taken by restore_wal.sh: produced here and gone from the directory.
                for (var it = produced.iterator(); it.hasNext(); ) {
                    WalSegmentName s = it.next();
                    if (!own.holdsFile(s.fileName())) {
                        it.remove();
                        if (s.compareTo(consumedUpTo) > 0) {
                            consumedUpTo = s;
                        }
                        lastProgress = Instant.now();
                    }
                }
                List<WalSegmentName> batch = new ArrayList<>();
                while (next.segmentNumber() <= consumedUpTo.segmentNumber() + window) {
                    batch.add(next);
                    next = next.next();
                }
                if (!batch.isEmpty()) {
                    List<Future<Boolean>> results = new ArrayList<>();
                    for (WalSegmentName s : batch) {
                        results.add(pool.submit(() -> fetchInto(s, own)));
                    }
                    boolean end = false;
                    for (int i = 0; i < batch.size(); i++) {
                        if (get(results.get(i))) {
                            produced.add(batch.get(i));
                            fetched++;
                        } else {
                            end = true;
                        }
                    }
                    if (end) {
                        // restore_wal.sh then starts no fetcher for its hits, only for a miss (newer WAL).
                        own.writeMarker(END_MARKER, "end of archive\n");
                        return new Result(fetched, true);
                    }
                    lastProgress = Instant.now();
                } else if (Duration.between(lastProgress, Instant.now()).compareTo(IDLE) > 0) {
                    return new Result(fetched, false);
                }
                java.nio.file.WatchKey key = taken.poll(1, java.util.concurrent.TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
            return new Result(fetched, false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(fetched, false);
        } finally {
            pool.shutdownNow();
            Files.deleteIfExists(own.resolve(".fetcher.pid"));
        }
    }

    /** In PGDATA/pg_wal/pgbackup_prefetch: recovery is over once neither recovery.signal nor standby.signal is there. */
    static boolean recoveryEnded(Path dir) {
        Path pgWal = dir.toAbsolutePath().getParent();
        if (pgWal == null || !pgWal.getFileName().toString().equals("pg_wal") || pgWal.getParent() == null) {
            return false;
        }
        Path pgData = pgWal.getParent();
        return Files.exists(pgData.resolve("PG_VERSION")) && !Files.exists(pgData.resolve("recovery.signal"))
                && !Files.exists(pgData.resolve("standby.signal"));
    }

    /** One segment into the directory under its own name once complete; false when the archive does not hold it. */
    private boolean fetchInto(WalSegmentName segment, PrefetchDirectory own) {
        try {
            // Written under a temporary name and renamed over whatever is there, a link included (never through it).
            return own.holdsFile(segment.fileName()) || fetcher.fetch(segment.fileName(), own.resolve(segment.fileName()));
        } catch (io.pgbackup.core.PgBackupException e) {
            if (!Files.isDirectory(own.path())) {
                return false; // recovery ended and took the directory along
            }
            throw e;
        }
    }

    private static boolean get(Future<Boolean> f) throws IOException, InterruptedException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw Futures.cause(e) instanceof IOException io ? io : new IOException(Futures.cause(e));
        }
    }

    /** This boot's id, which the prefetch directory's {@code .trusted} marker names. */
    public static Optional<String> bootId() {
        try {
            String id = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
            return id.isEmpty() ? Optional.empty() : Optional.of(id);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * restore_wal.sh trusts prefetched files only within the boot that wrote them (an OS crash could
     * leave them partly unwritten); the same marker 'pgbackup restore' writes.
     */
    private static void markTrusted(PrefetchDirectory own) throws IOException {
        String existing = own.readMarker(".trusted");
        // Without a boot id the files would have to be flushed each; then none is trusted and the script reads the archive.
        Optional<String> current = bootId();
        if (current.isEmpty() || existing.equals("fsynced") || existing.equals("boot " + current.get())) {
            return;
        }
        String boot = current.get();
        // Segments prefetched before a reboot may be torn: drop them (only those: nothing else there is ours).
        own.deleteSegments();
        AtomicFiles.write(own.resolve(".trusted"), ("boot " + boot + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
