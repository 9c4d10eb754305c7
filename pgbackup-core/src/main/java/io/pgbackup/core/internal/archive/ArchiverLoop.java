package io.pgbackup.core.internal.archive;

import io.pgbackup.core.archive.WalArchiver.ArchiverRun;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One archiver run's poll loop, on one thread: reads {@code archive_status/*.ready} every 50 ms and
 * hands each file not yet acknowledged to the worker pool ({@link ArchiveWorker}), oldest first;
 * withdraws error acknowledgements after a few seconds so the file is tried again; queues archived
 * files for the {@link OffsiteCopier}; keeps the {@link ArchiverStateFile} and the liveness lock
 * current. Only this thread touches its maps; workers report through {@link #done}.
 */
final class ArchiverLoop {
    private static final Logger log = LoggerFactory.getLogger(ArchiverLoop.class);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration ERROR_RETRY = Duration.ofSeconds(5);
    private static final Duration STALE_OK = Duration.ofMinutes(10);
    private static final Duration RECENT_ACK = Duration.ofSeconds(10);

    private final Path pgData;
    private final Path statusDir;
    private final ArchiveSpool spool;
    private final ArchiverLiveness.Holder alive;
    private final ArchiverConfig settings;
    private final Storage target;
    private final Compression compression;
    private final Map<String, Instant> inFlight = new HashMap<>();
    /** Acknowledged files, until PostgreSQL has turned their .ready into .done. */
    private final Map<String, Instant> recentlyAcked = new HashMap<>();
    /** Failed files, so they wait ERROR_RETRY even when their error acknowledgement could not be written (full spool). */
    private final Map<String, Instant> recentlyFailed = new HashMap<>();
    private final ConcurrentLinkedQueue<ArchiveWorker.Outcome> done = new ConcurrentLinkedQueue<>();
    private final Semaphore outcomeReady = new Semaphore(0);
    private final Pools.Pool workers;
    private final ArchiveLog archiveLog;
    private final OffsiteCopier offsite;
    private final ArchiverStateFile state;
    private ArchiveWorker worker;
    private Optional<String> refusal = Optional.empty();

    ArchiverLoop(Path pgData, ArchiveSpool spool, ArchiverLiveness.Holder alive, ArchiverConfig settings, Storage target,
                 Compression compression, OffsiteTargets offsiteTargets, Path logFile) {
        this.pgData = pgData;
        this.spool = spool;
        this.alive = alive;
        this.settings = settings;
        this.target = target;
        this.compression = compression;
        this.statusDir = pgData.resolve("pg_wal").resolve("archive_status");
        this.workers = Pools.fixed("pgbackup-archiver", settings.workers());
        this.archiveLog = new ArchiveLog(logFile);
        this.offsite = new OffsiteCopier(target, offsiteTargets.bucket(), offsiteTargets.rsync(), archiveLog);
        this.state = new ArchiverStateFile(spool, pgData);
    }

    /** Where archived files are copied besides {@code target}. */
    record OffsiteTargets(Optional<Storage> bucket, Optional<io.pgbackup.core.sync.RemoteSyncer> rsync) {
    }

    ArchiverRun run() throws IOException {
        spool.writePid(ProcessHandle.current().pid(), pgData);
        try {
            refusal = ClusterIdentity.claim(target, ClusterIdentity.systemIdentifier(pgData));
        } catch (IOException e) {
            refusal = Optional.of("cannot check which cluster " + target.location() + " archives: " + Repository.describe(e));
        }
        refusal.ifPresent(r -> archiveLog.line("ERROR", "-", "refused", r));
        if (refusal.isEmpty()) {
            // Before the workers start: with a backlog, each would otherwise seal its first segments in uncompiled code.
            io.pgbackup.core.internal.crypto.CipherWarmUp.forSealing(target, Repository.WAL_PREFIX, this::backlogAtStart);
        }
        worker = new ArchiveWorker(pgData, spool, target, compression, archiveLog, refusal);
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
                if (inFlight.isEmpty() && !offsite.roundRunning() && !Files.exists(pgData.resolve("postmaster.pid"))) {
                    if (offsite.pending() > 0) {
                        archiveLog.line("WARNING", "-", "offsite-pending", offsite.pending()
                                + " archived file(s) not copied offsite yet; 'pgbackup sync' copies them");
                    }
                    break;
                }
                if (!Files.isDirectory(spool.ackDir())) {
                    archiveLog.line("WARNING", "-", "stopped", spool.dir() + " is gone: the repository was removed");
                    break;
                }
                List<String> ready = readyFiles();
                state.queueDepth(ready.size());
                Set<String> answered = withdrawStaleAcks(ready);
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
                offsite.maybeStartRound();
                state.write(false, offsite);
                boolean busy = !ready.isEmpty() || !inFlight.isEmpty() || offsite.pending() > 0 || offsite.roundRunning();
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
                if (outcomeReady.tryAcquire(POLL.toMillis(), TimeUnit.MILLISECONDS)) {
                    outcomeReady.drainPermits();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            workers.close();
            offsite.close();
            Files.deleteIfExists(spool.pidFile());
            state.write(true, offsite);
            archiveLog.close();
        }
        return new ArchiverRun(false, state.acknowledgedCount(), state.failedCount(), state.lastError());
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
            done.add(worker.archive(name, seen));
            outcomeReady.release();
        });
    }

    private void drainOutcomes() {
        for (ArchiveWorker.Outcome o; (o = done.poll()) != null; ) {
            inFlight.remove(o.name());
            if (o.stored().isPresent()) {
                SegmentStore.Stored s = o.stored().get();
                state.acknowledged(o.name(), o.seen(), o.finished());
                recentlyAcked.put(o.name(), o.finished());
                if (!s.alreadyArchived() && offsite.enabled()) {
                    offsite.add(s.key(), o.finished());
                }
            } else {
                state.failed(o.error(), o.finished());
                recentlyFailed.put(o.name(), o.finished());
            }
        }
    }

    /**
     * Error acknowledgements are withdrawn after a while, so the file is tried again; stale oks are
     * dropped. Returns the files that still have an acknowledgement (ok or error) after the
     * withdrawals: one listing, no stat per file.
     */
    private Set<String> withdrawStaleAcks(List<String> ready) throws IOException {
        Set<String> readySet = new HashSet<>(ready);
        Set<String> acknowledged = new HashSet<>();
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

    /** How many files wait at the start; 0 when archive_status cannot be read (the loop then says why). */
    private int backlogAtStart() {
        try {
            return readyFiles().size();
        } catch (IOException e) {
            return 0;
        }
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
}
