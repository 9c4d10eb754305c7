package io.pgbackup.core.internal.archive;

import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.sync.RemoteSyncer;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Future;

/**
 * The archiver's offsite copies: archived files wait in a queue and are copied to the bucket and/or
 * brought to the rsync remote in rounds on one thread of their own, so a slow or unreachable
 * target never delays an acknowledgement. What fails stays queued (and 'pgbackup sync' copies it).
 */
final class OffsiteCopier implements AutoCloseable {
    /** How long archived files gather before one rsync or bucket round (or 64 of them). */
    private static final Duration ROUND = Duration.ofSeconds(2);
    private static final Duration RETRY = Duration.ofSeconds(10);
    private static final int ROUND_SIZE = 64;

    record Pending(String key, Instant archivedAt) {
    }

    private final Storage source;
    private final Optional<Storage> bucket;
    private final Optional<RemoteSyncer> rsync;
    private final ArchiveLog archiveLog;
    private final ConcurrentLinkedDeque<Pending> queue = new ConcurrentLinkedDeque<>();
    private final Pools.Pool thread = Pools.single("pgbackup-offsite");
    private Future<?> round;
    private volatile Instant nextRound = Instant.EPOCH;
    private volatile String error = "";

    OffsiteCopier(Storage source, Optional<Storage> bucket, Optional<RemoteSyncer> rsync, ArchiveLog archiveLog) {
        this.source = source;
        this.bucket = bucket;
        this.rsync = rsync;
        this.archiveLog = archiveLog;
    }

    /** Whether there is anywhere to copy to. */
    boolean enabled() {
        return bucket.isPresent() || rsync.isPresent();
    }

    void add(String key, Instant archivedAt) {
        queue.add(new Pending(key, archivedAt));
    }

    boolean roundRunning() {
        return round != null && !round.isDone();
    }

    int pending() {
        return queue.size();
    }

    Optional<Instant> oldestPending() {
        Pending oldest = queue.peekFirst();
        return oldest == null ? Optional.empty() : Optional.of(oldest.archivedAt());
    }

    String lastError() {
        return error;
    }

    /** Starts a round when files wait long enough (or many do), none runs and the target is not resting after a failure. */
    void maybeStartRound() {
        if (queue.isEmpty() || roundRunning() || Instant.now().isBefore(nextRound)) {
            return;
        }
        if (Duration.between(queue.peekFirst().archivedAt(), Instant.now()).compareTo(ROUND) < 0 && queue.size() < ROUND_SIZE) {
            return;
        }
        List<Pending> batch = new ArrayList<>(queue);
        round = thread.submit(() -> {
            List<Pending> copied = copy(batch);
            copied.forEach(queue::remove);
            // A target that is down is asked again only after a pause, not every 50 ms.
            nextRound = copied.size() < batch.size() ? Instant.now().plus(RETRY) : Instant.EPOCH;
        });
    }

    /** On the offsite thread: each file to the bucket, then one rsync round; returns what is done. */
    private List<Pending> copy(List<Pending> batch) {
        List<Pending> copied = new ArrayList<>();
        boolean rsyncOk = true;
        if (rsync.isPresent()) {
            try {
                rsync.get().syncWal(false);
            } catch (RuntimeException e) {
                rsyncOk = false;
                error = "rsync: " + e.getMessage();
                archiveLog.line("WARNING", "-", "remote-sync-failed", error);
            }
        }
        for (Pending o : batch) {
            boolean ok = rsyncOk;
            if (bucket.isPresent()) {
                try {
                    copyToBucket(bucket.get(), o.key());
                } catch (IOException | RuntimeException e) {
                    ok = false;
                    error = "s3: " + (e instanceof IOException io ? Repository.describe(io) : e.getMessage());
                    archiveLog.line("WARNING", o.key(), "s3-sync-failed", error + " ('pgbackup sync' copies it later)");
                }
            }
            if (ok) {
                copied.add(o);
            }
        }
        if (copied.size() == batch.size()) {
            error = "";
        }
        if (!copied.isEmpty()) {
            archiveLog.line("INFO", "-", bucket.isPresent() ? "s3-synced" : "remote-synced",
                    copied.size() + " file(s) to " + bucket.map(Storage::location).orElse("the rsync remote"));
        }
        return copied;
    }

    private void copyToBucket(Storage to, String key) throws IOException {
        if (to.stat(key).isPresent()) {
            return;
        }
        try {
            // Sealed bytes stay sealed: the copy needs no key, and its keyset record goes first.
            io.pgbackup.core.internal.crypto.Sealing.copyStored(source, to, key, Storage.WriteMode.CREATE_NEW);
        } catch (FileAlreadyExistsException e) {
            // Copied meanwhile by 'pgbackup sync'.
        }
    }

    @Override
    public void close() {
        thread.close();
    }
}
