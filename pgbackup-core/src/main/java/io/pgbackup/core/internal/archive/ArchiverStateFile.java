package io.pgbackup.core.internal.archive;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.internal.storage.RepositoryJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * One run's counters and the spool's {@code state.json} that {@code status} reads: written every
 * 5 s, and soon after each change (at most five times a second). Only the loop thread uses it.
 */
final class ArchiverStateFile {
    private static final Logger log = LoggerFactory.getLogger(ArchiverStateFile.class);

    private final ArchiveSpool spool;
    private final Path pgData;
    private final Instant startedAt = Instant.now();
    private final ObjectMapper json = RepositoryJson.newMapper();
    private long acknowledged;
    private long failed;
    private long latencyTotal;
    private long lastLatency;
    private String lastAcked = "";
    private Instant lastAckedAt;
    private String lastError = "";
    private Instant lastErrorAt;
    private int queueDepth;
    private Instant lastWrite = Instant.EPOCH;
    private boolean changed;

    ArchiverStateFile(ArchiveSpool spool, Path pgData) {
        this.spool = spool;
        this.pgData = pgData;
    }

    void acknowledged(String name, Instant seen, Instant finished) {
        changed = true;
        acknowledged++;
        lastLatency = Duration.between(seen, finished).toMillis();
        latencyTotal += lastLatency;
        if (lastAcked.isEmpty() || WalOrder.COMPARATOR.compare(name, lastAcked) >= 0) {
            lastAcked = name;
        }
        lastAckedAt = finished;
    }

    void failed(String error, Instant finished) {
        changed = true;
        failed++;
        lastError = error;
        lastErrorAt = finished;
    }

    void queueDepth(int depth) {
        queueDepth = depth;
    }

    long acknowledgedCount() {
        return acknowledged;
    }

    long failedCount() {
        return failed;
    }

    String lastError() {
        return lastError;
    }

    /** Writes state.json when due (always when {@code finished}); a full spool disk must not stop archiving. */
    void write(boolean finished, OffsiteCopier offsite) {
        Instant now = Instant.now();
        long sinceLast = Duration.between(lastWrite, now).toMillis();
        if (!finished && sinceLast < (changed ? 200 : 5000)) {
            return;
        }
        lastWrite = now;
        changed = false;
        ArchiverState state = new ArchiverState(!finished, ProcessHandle.current().pid(), pgData.toString(), startedAt, now,
                queueDepth, lastAcked, lastAckedAt, lastLatency, acknowledged == 0 ? 0 : latencyTotal / acknowledged,
                acknowledged, failed, lastError, lastErrorAt, offsite.pending(), offsite.oldestPending().orElse(null),
                offsite.lastError());
        try {
            spool.writeState(json.writeValueAsBytes(state));
        } catch (IOException e) {
            // status then shows the previous state.
            log.debug("cannot write the archiver state", e);
        }
    }
}
