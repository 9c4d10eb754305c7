package io.pgbackup.core.internal.archive;

import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The archiver's store-and-acknowledge step for one WAL file, run on a worker thread: store it
 * ({@link SegmentStore}), then acknowledge it; never the other way round. A failure becomes an
 * error acknowledgement and an {@link Outcome} without a stored copy.
 */
final class ArchiveWorker {
    private static final Logger log = LoggerFactory.getLogger(ArchiveWorker.class);

    /** What became of one file, for the loop. */
    record Outcome(String name, Instant seen, Instant finished, Optional<SegmentStore.Stored> stored, String error) {
    }

    private final Path pgData;
    private final ArchiveSpool spool;
    private final Storage target;
    private final Compression compression;
    private final ArchiveLog archiveLog;
    private final Optional<String> refusal;

    /** @param refusal why this cluster may not archive into {@code target}; when present every file fails with it */
    ArchiveWorker(Path pgData, ArchiveSpool spool, Storage target, Compression compression, ArchiveLog archiveLog,
                  Optional<String> refusal) {
        this.pgData = pgData;
        this.spool = spool;
        this.target = target;
        this.compression = compression;
        this.archiveLog = archiveLog;
        this.refusal = refusal;
    }

    Outcome archive(String name, Instant seen) {
        try {
            if (refusal.isPresent()) {
                throw new IOException(refusal.get());
            }
            Path source = pgData.resolve("pg_wal").resolve(name);
            SegmentStore.Stored stored = new SegmentStore(target, compression).store(source, name);
            try {
                spool.acknowledge(name, pgData);
            } catch (IOException e) {
                return error(name, seen, name + " is stored as " + stored.key() + ", but its acknowledgement cannot be written in "
                        + spool.ackDir() + ": " + Repository.describe(e) + " (PostgreSQL retries; nothing was dropped)");
            }
            // On the worker, right after the acknowledgement: the log does not wait for the loop.
            archiveLog.line("INFO", name, stored.alreadyArchived() ? SegmentStore.Rule.IDENTICAL.result() : SegmentStore.Rule.NEW.result(),
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
}
