package io.pgbackup.core.internal.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.archive.ArchiverRun;
import io.pgbackup.core.archive.ArchiverState;
import io.pgbackup.core.archive.WalArchiver;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.RepositoryJson;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.sync.RemoteSyncer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The archiver. A loop on one thread reads {@code archive_status/*.ready} every 50 ms and hands
 * each file not yet acknowledged to a pool of {@code workers} threads (oldest first; history files
 * before segments, as PostgreSQL's own archiver orders them). A worker stores the file
 * ({@link SegmentStore}) and only then writes its acknowledgement. Failed files get an error
 * acknowledgement, which the loop withdraws after a few seconds so the file is tried again:
 * nothing is ever dropped, whatever fills up. Archived files are then queued for the offsite
 * copies (one thread, never delaying an acknowledgement). Exits after {@code idleExitSeconds}
 * with nothing ready, nothing in flight and nothing waiting for the offsite copy.
 */
public final class AsyncArchiver implements WalArchiver {
    private static final Logger log = LoggerFactory.getLogger(AsyncArchiver.class);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration ERROR_RETRY = Duration.ofSeconds(5);
    private static final Duration STALE_OK = Duration.ofMinutes(10);
    private static final Duration RECENT_ACK = Duration.ofSeconds(10);
    /** How many archived files wait for the offsite copy before one rsync or bucket round. */
    private static final Duration OFFSITE_ROUND = Duration.ofSeconds(2);
    private static final Duration OFFSITE_RETRY = Duration.ofSeconds(10);

    private final PgBackupContext context;
    private final ArchiverConfig settings;
    private final Storage target;
    private final Optional<Storage> offsiteBucket;
    private final Optional<RemoteSyncer> rsync;
    private final Path backupDir;
    private final ObjectMapper json = RepositoryJson.newMapper();

    /**
     * @param target        where segments are stored and acknowledged: the local repository, or the bucket in spool mode
     * @param offsiteBucket the bucket to copy each archived file to (not in spool mode)
     * @param rsync         the rsync remote to bring up to date after each batch
     */
    public AsyncArchiver(PgBackupContext context, Storage target, Optional<Storage> offsiteBucket, Optional<RemoteSyncer> rsync) {
        this.context = context;
        this.settings = context.config().archiver();
        this.target = target;
        this.offsiteBucket = offsiteBucket;
        this.rsync = rsync;
        this.backupDir = context.config().requireBackupDir();
    }

    @Override
    public Optional<ArchiverState> state() {
        return ArchiveSpool.latestState(backupDir, context.config().pgData());
    }

    @Override
    public ArchiverRun run(Path pgData) {
        Path cluster = pgData.toAbsolutePath().normalize();
        return run(cluster, new ArchiveSpool(backupDir, cluster));
    }

    @Override
    public ArchiverRun run(Path pgData, Path spoolDir) {
        return run(pgData.toAbsolutePath().normalize(), ArchiveSpool.at(spoolDir.toAbsolutePath().normalize()));
    }

    private ArchiverRun run(Path cluster, ArchiveSpool spool) {
        io.pgbackup.core.internal.storage.DirectoryGuard.requireOwnerOnly(context.repository());
        ArchiverLiveness.Holder alive = null;
        try {
            spool.create();
            // The fcntl lock keeps a second archiver out at once; the flock one (held by a child) is
            // what archive_wal.sh and status test (see ArchiverLiveness for why there are two).
            try (FileChannel channel = FileChannel.open(spool.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = channel.tryLock()) {
                if (lock == null) {
                    return new ArchiverRun(true, 0, 0, "");
                }
                alive = ArchiverLiveness.hold(spool.aliveFile(), Duration.ofSeconds(10));
                return new Run(cluster, spool, alive).loop();
            }
        } catch (IOException e) {
            throw Repository.ioFailure("archiver cannot use " + spool.dir(), e);
        } finally {
            // Only after the fcntl lock is gone: an archiver that a script starts on seeing this
            // lock free is not turned away by the one still holding the other.
            if (alive != null) {
                alive.close();
            }
        }
    }

    /** One run's mutable state; only the loop thread touches the maps, workers report through {@link #done}. */
    private final class Run {
        private final Path pgData;
        private final Path statusDir;
        private final Instant startedAt = Instant.now();
        private final Map<String, Instant> inFlight = new HashMap<>();
        /** Acknowledged files, until PostgreSQL has turned their .ready into .done. */
        private final Map<String, Instant> recentlyAcked = new HashMap<>();
        /** Failed files, so they wait ERROR_RETRY even when their error acknowledgement could not be written (full spool). */
        private final Map<String, Instant> recentlyFailed = new HashMap<>();
        private final java.util.concurrent.ConcurrentLinkedQueue<Outcome> done = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final java.util.concurrent.Semaphore outcomeReady = new java.util.concurrent.Semaphore(0);
        private final java.util.concurrent.ConcurrentLinkedDeque<Offsite> offsiteQueue = new java.util.concurrent.ConcurrentLinkedDeque<>();
        private final ExecutorService workers;
        private final ExecutorService offsiteWorker = Executors.newSingleThreadExecutor(daemon("pgbackup-offsite"));
        private java.util.concurrent.Future<?> offsiteRound;
        private volatile Instant nextOffsiteRound = Instant.EPOCH;
        private final ArchiveLog archiveLog;
        private long acknowledged;
        private long failed;
        private long latencyTotal;
        private long lastLatency;
        private String lastAcked = "";
        private Instant lastAckedAt;
        private String lastError = "";
        private Instant lastErrorAt;
        private volatile String offsiteError = "";
        private int queueDepth;
        private Instant lastStateWrite = Instant.EPOCH;
        private boolean stateChanged;
        private Optional<String> refusal = Optional.empty();

        private final ArchiveSpool spool;
        private final ArchiverLiveness.Holder alive;

        Run(Path pgData, ArchiveSpool spool, ArchiverLiveness.Holder alive) {
            this.pgData = pgData;
            this.spool = spool;
            this.alive = alive;
            this.statusDir = pgData.resolve("pg_wal").resolve("archive_status");
            this.workers = Executors.newFixedThreadPool(settings.workers(), daemon("pgbackup-archiver"));
            this.archiveLog = new ArchiveLog(context.config().requireBackupDir().resolve("logs").resolve("wal_archive.log"));
        }

        ArchiverRun loop() throws IOException {
            spool.writePid(ProcessHandle.current().pid(), pgData);
            try {
                refusal = ClusterIdentity.claim(target, ClusterIdentity.systemIdentifier(pgData));
            } catch (IOException e) {
                refusal = Optional.of("cannot check which cluster " + target.location() + " archives: " + Repository.describe(e));
            }
            refusal.ifPresent(r -> archiveLog.line("ERROR", "-", "refused", r));
            sweepLeftovers();
            Instant idleSince = Instant.now();
            try {
                while (true) {
                    drainOutcomes();
                    alive.keep().ifPresent(event -> archiveLog.line(alive.held() ? "INFO" : "WARNING", "-", "liveness-lock", event));
                    if (inFlight.isEmpty() && !Files.isDirectory(statusDir)) {
                        archiveLog.line("WARNING", "-", "stopped", statusDir + " is gone: the cluster was removed");
                        break;
                    }
                    // A stopped cluster asks for nothing more; after its restart the next archive_command starts an archiver.
                    if (inFlight.isEmpty() && (offsiteRound == null || offsiteRound.isDone())
                            && !Files.exists(pgData.resolve("postmaster.pid"))) {
                        if (!offsiteQueue.isEmpty()) {
                            archiveLog.line("WARNING", "-", "offsite-pending", offsiteQueue.size()
                                    + " archived file(s) not copied offsite yet; 'pgbackup sync' copies them");
                        }
                        break;
                    }
                    if (!Files.isDirectory(spool.ackDir())) {
                        archiveLog.line("WARNING", "-", "stopped", spool.dir() + " is gone: the repository was removed");
                        break;
                    }
                    List<String> ready = readyFiles();
                    queueDepth = ready.size();
                    java.util.Set<String> answered = withdrawStaleAcks(ready);
                    for (String name : ready) {
                        if (inFlight.size() >= settings.workers() * 2) {
                            break;
                        }
                        if (!inFlight.containsKey(name) && !recentlyAcked.containsKey(name) && !recentlyFailed.containsKey(name)
                                && !answered.contains(name)) {
                            submit(name);
                        }
                    }
                    if (refusal.isPresent() && inFlight.isEmpty()) {
                        // Refused, it can archive nothing: having answered what is ready, it exits rather
                        // than hold the repository's lock (and pid file) against the cluster that owns it.
                        break;
                    }
                    startOffsiteRound();
                    writeState(false);
                    boolean busy = !ready.isEmpty() || !inFlight.isEmpty() || !offsiteQueue.isEmpty()
                            || (offsiteRound != null && !offsiteRound.isDone());
                    if (busy) {
                        idleSince = Instant.now();
                    } else if (Duration.between(idleSince, Instant.now()).getSeconds() >= settings.idleExitSeconds()) {
                        // Gone before the last look, so a script that finds no pid file starts a new archiver.
                        Files.deleteIfExists(spool.pidFile());
                        if (readyFiles().isEmpty()) {
                            break;
                        }
                        spool.writePid(ProcessHandle.current().pid(), pgData);
                    }
                    // The next look: at once when a worker finished, else after POLL (new .ready files).
                    if (outcomeReady.tryAcquire(POLL.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        outcomeReady.drainPermits();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                workers.shutdownNow();
                offsiteWorker.shutdownNow();
                Files.deleteIfExists(spool.pidFile());
                writeState(true);
                archiveLog.close();
            }
            return new ArchiverRun(false, acknowledged, failed, lastError);
        }

        /**
         * Removes what an archiver killed mid-write left under hidden names; only once idle for 10
         * minutes, since a sync archive_wal.sh (a standby's, say) may be writing right now.
         */
        private void sweepLeftovers() {
            try {
                Instant before = Instant.now().minus(STALE_OK);
                for (Storage.StoredObject o : target.list(Repository.WAL_PREFIX + ".")) {
                    if (o.name().contains(".tmp") && o.lastModified().isBefore(before)) {
                        target.delete(o.key());
                        archiveLog.line("INFO", o.name(), "removed-leftover", "of an interrupted archive call");
                    }
                }
            } catch (IOException e) {
                log.debug("cannot sweep leftovers", e);
            }
        }

        private void submit(String name) {
            Instant seen = Instant.now();
            inFlight.put(name, seen);
            workers.execute(() -> {
                done.add(archiveOne(name, seen));
                outcomeReady.release();
            });
        }

        /** On a worker thread: store, then acknowledge; never the other way round. */
        private Outcome archiveOne(String name, Instant seen) {
            try {
                if (refusal.isPresent()) {
                    throw new IOException(refusal.get());
                }
                Path source = pgData.resolve("pg_wal").resolve(name);
                SegmentStore.Stored stored = new SegmentStore(target, context.config().compression()).store(source, name);
                try {
                    spool.acknowledge(name, pgData);
                } catch (IOException e) {
                    return error(name, seen, name + " is stored as " + stored.key() + ", but its acknowledgement cannot be written in "
                            + spool.ackDir() + ": " + Repository.describe(e) + " (PostgreSQL retries; nothing was dropped)");
                }
                // On the worker, right after the acknowledgement: the log does not wait for the loop.
                archiveLog.line("INFO", name, stored.alreadyArchived() ? "already-archived" : "archived",
                        "size=" + stored.size() + " stored=" + stored.storedSize() + " key=" + stored.key()
                                + " ms=" + Duration.between(seen, Instant.now()).toMillis());
                return new Outcome(name, seen, Instant.now(), Optional.of(stored), "");
            } catch (NoSuchFileException e) {
                return error(name, seen, name + ": " + e.getFile() + " is gone (PostgreSQL recycled it or its .ready is stale)");
            } catch (SegmentStore.ConflictException e) {
                return error(name, seen, e.getMessage());
            } catch (IOException | RuntimeException e) {
                String why = e instanceof IOException io ? Repository.describe(io) : String.valueOf(e.getMessage());
                return error(name, seen, "could not store " + name + " in " + target.location() + ": " + why + " (nothing was dropped; retried)");
            }
        }

        private Outcome error(String name, Instant seen, String message) {
            archiveLog.line("ERROR", name, "failed", message);
            try {
                spool.reportError(name, message);
            } catch (IOException e) {
                log.debug("cannot write the error acknowledgement of {}", name, e);
            }
            return new Outcome(name, seen, Instant.now(), Optional.empty(), message);
        }

        private void drainOutcomes() {
            for (Outcome o; (o = done.poll()) != null; ) {
                stateChanged = true;
                inFlight.remove(o.name());
                if (o.stored().isPresent()) {
                    SegmentStore.Stored s = o.stored().get();
                    acknowledged++;
                    lastLatency = Duration.between(o.seen(), o.finished()).toMillis();
                    latencyTotal += lastLatency;
                    if (lastAcked.isEmpty() || WalOrder.COMPARATOR.compare(o.name(), lastAcked) >= 0) {
                        lastAcked = o.name();
                    }
                    lastAckedAt = o.finished();
                    recentlyAcked.put(o.name(), o.finished());
                    if (!s.alreadyArchived() && (offsiteBucket.isPresent() || rsync.isPresent())) {
                        offsiteQueue.add(new Offsite(s.key(), o.finished()));
                    }
                } else {
                    failed++;
                    recentlyFailed.put(o.name(), o.finished());
                    lastError = o.error();
                    lastErrorAt = o.finished();
                }
            }
        }

        /** Error acknowledgements are withdrawn after a while, so the file is tried again; stale oks are dropped. */
        /** Returns the files that still have an acknowledgement (ok or error) after the withdrawals: one listing, no stat per file. */
        private java.util.Set<String> withdrawStaleAcks(List<String> ready) throws IOException {
            java.util.Set<String> readySet = new java.util.HashSet<>(ready);
            java.util.Set<String> acknowledged = new java.util.HashSet<>();
            Instant now = Instant.now();
            // Between the script consuming its acknowledgement and PostgreSQL renaming .ready to .done
            // the file still looks ready; archive it again only if PostgreSQL still asks much later
            // (it crashed in between): an identical re-archive is then a quick success.
            recentlyAcked.entrySet().removeIf(e -> !readySet.contains(e.getKey()) || e.getValue().plus(RECENT_ACK).isBefore(now));
            recentlyFailed.entrySet().removeIf(e -> e.getValue().plus(ERROR_RETRY).isBefore(now));
            try (DirectoryStream<Path> acks = Files.newDirectoryStream(spool.ackDir())) {
                for (Path ack : acks) {
                    String file = ack.getFileName().toString();
                    if (file.startsWith(".")) {
                        continue;
                    }
                    Instant modified = Files.getLastModifiedTime(ack).toInstant();
                    String name = file.substring(0, file.lastIndexOf('.'));
                    if (file.endsWith(".error") && modified.plus(ERROR_RETRY).isBefore(now)) {
                        Files.deleteIfExists(ack);
                    } else if (file.endsWith(".ok") && !readySet.contains(name) && modified.plus(STALE_OK).isBefore(now)) {
                        Files.deleteIfExists(ack);
                    } else {
                        acknowledged.add(name);
                    }
                }
            } catch (NoSuchFileException e) {
                // The loop notices and stops: never recreate a spool someone removed.
            }
            return acknowledged;
        }

        /** The .ready files, history files first, then by name (PostgreSQL's own order). */
        private List<String> readyFiles() throws IOException {
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(statusDir, "*.ready")) {
                for (Path f : files) {
                    String file = f.getFileName().toString();
                    String name = file.substring(0, file.length() - ".ready".length());
                    if (!name.isEmpty() && !name.startsWith(".") && !name.contains("/")) {
                        names.add(name);
                    }
                }
            } catch (NoSuchFileException e) {
                return List.of();
            }
            names.sort(WalOrder.COMPARATOR);
            return names;
        }

        private void startOffsiteRound() {
            if (offsiteQueue.isEmpty() || (offsiteRound != null && !offsiteRound.isDone())
                    || Instant.now().isBefore(nextOffsiteRound)) {
                return;
            }
            if (Duration.between(offsiteQueue.peekFirst().archivedAt(), Instant.now()).compareTo(OFFSITE_ROUND) < 0
                    && offsiteQueue.size() < 64) {
                return;
            }
            List<Offsite> batch = new ArrayList<>(offsiteQueue);
            offsiteRound = offsiteWorker.submit(() -> {
                List<Offsite> copied = copyOffsite(batch);
                copied.forEach(offsiteQueue::remove);
                // A target that is down is asked again only after a pause, not every 50 ms.
                nextOffsiteRound = copied.size() < batch.size() ? Instant.now().plus(OFFSITE_RETRY) : Instant.EPOCH;
            });
        }

        /** On the offsite thread: each file to the bucket, then one rsync round; returns what is done. */
        private List<Offsite> copyOffsite(List<Offsite> batch) {
            List<Offsite> copied = new ArrayList<>();
            boolean rsyncOk = true;
            if (rsync.isPresent()) {
                try {
                    rsync.get().syncWal(false);
                } catch (RuntimeException e) {
                    rsyncOk = false;
                    offsiteError = "rsync: " + e.getMessage();
                    archiveLog.line("WARNING", "-", "remote-sync-failed", offsiteError);
                }
            }
            for (Offsite o : batch) {
                boolean ok = rsyncOk;
                if (offsiteBucket.isPresent()) {
                    try {
                        copyToBucket(offsiteBucket.get(), o.key());
                    } catch (IOException | RuntimeException e) {
                        ok = false;
                        offsiteError = "s3: " + (e instanceof IOException io ? Repository.describe(io) : e.getMessage());
                        archiveLog.line("WARNING", o.key(), "s3-sync-failed", offsiteError + " ('pgbackup sync' copies it later)");
                    }
                }
                if (ok) {
                    copied.add(o);
                }
            }
            if (copied.size() == batch.size()) {
                offsiteError = "";
            }
            if (!copied.isEmpty()) {
                archiveLog.line("INFO", "-", offsiteBucket.isPresent() ? "s3-synced" : "remote-synced",
                        copied.size() + " file(s) to " + offsiteBucket.map(Storage::location).orElse("the rsync remote"));
            }
            return copied;
        }

        private void copyToBucket(Storage bucket, String key) throws IOException {
            if (bucket.stat(key).isPresent()) {
                return;
            }
            try (var in = target.open(key); Storage.ObjectWriter writer = bucket.create(key, Storage.WriteMode.CREATE_NEW)) {
                in.transferTo(writer.stream());
                writer.commit();
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // Copied meanwhile by 'pgbackup sync'.
            }
        }

        private void writeState(boolean finished) {
            Instant now = Instant.now();
            // Every 5 s, and soon after each acknowledgement (at most five times a second).
            long sinceLast = Duration.between(lastStateWrite, now).toMillis();
            if (!finished && sinceLast < (stateChanged ? 200 : 5000)) {
                return;
            }
            lastStateWrite = now;
            stateChanged = false;
            Offsite oldest = offsiteQueue.peekFirst();
            Instant oldestOffsite = oldest == null ? null : oldest.archivedAt();
            int offsitePending = offsiteQueue.size();
            ArchiverState state = new ArchiverState(!finished, ProcessHandle.current().pid(), pgData.toString(), startedAt, now,
                    queueDepth, lastAcked, lastAckedAt, lastLatency, acknowledged == 0 ? 0 : latencyTotal / acknowledged,
                    acknowledged, failed, lastError, lastErrorAt, offsitePending, oldestOffsite, offsiteError);
            try {
                spool.writeState(json.writeValueAsBytes(state));
            } catch (IOException e) {
                // A full spool disk must not stop archiving; status then shows the previous state.
                log.debug("cannot write the archiver state", e);
            }
        }
    }

    private record Outcome(String name, Instant seen, Instant finished, Optional<SegmentStore.Stored> stored, String error) {
    }

    private record Offsite(String key, Instant archivedAt) {
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** PostgreSQL's archiving order: timeline history files first, then everything else by name. */
    static final class WalOrder {
        static final Comparator<String> COMPARATOR = Comparator.<String, Boolean>comparing(n -> !n.endsWith(".history"))
                .thenComparing(Comparator.naturalOrder());

        private WalOrder() {
        }
    }

    /** logs/wal_archive.log, in archive_wal.sh's line format; a log that cannot be written never changes an outcome. */
    static final class ArchiveLog {
        private final Path file;
        private java.io.Writer out;

        ArchiveLog(Path file) {
            this.file = file;
        }

        synchronized void line(String level, String name, String result, String detail) {
            String text = java.time.format.DateTimeFormatter.ISO_INSTANT.format(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                    + " " + level + " " + name + " " + result + " archiver" + (detail.isEmpty() ? "" : " " + detail) + "\n";
            try {
                if (out == null) {
                    out = Files.newBufferedWriter(file, java.nio.charset.StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                }
                out.write(text);
                out.flush();
            } catch (IOException e) {
                out = null;
            }
            if (!level.equals("INFO")) {
                System.err.print("pgbackup archiver: " + text);
            }
        }

        synchronized void close() {
            try {
                if (out != null) {
                    out.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
