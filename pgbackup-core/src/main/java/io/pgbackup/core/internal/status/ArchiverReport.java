package io.pgbackup.core.internal.status;

import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.internal.archive.ArchiveSpool;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.status.StatusReport;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The status section about the archiver: its mode, the queue in pg_wal, what it last reported, and the reasons that follow. */
final class ArchiverReport {
    /** More waiting than this many segments per worker means the archiver does not keep up. */
    static final int BACKLOG_PER_WORKER = 8;
    /** The offsite copy this far behind is worth a warning. */
    static final Duration OFFSITE_LAG = Duration.ofMinutes(10);

    private final PgBackupContext context;
    private final Repository repository;

    ArchiverReport(PgBackupContext context, Repository repository) {
        this.context = context;
        this.repository = repository;
    }

    StatusReport.ArchiverStatus report(Instant now, List<String> fail, List<String> warn) {
        if (context.config().backupDir().isEmpty()) {
            return null;
        }
        String mode = scriptMode(repository.archiveScript());
        Optional<ArchiverState> state = ArchiveSpool.latestState(context.config().requireBackupDir(), context.config().pgData());
        Optional<Path> pgData = context.config().pgData().or(() -> state.map(s -> Path.of(s.pgData())));
        int ready = pgData.map(ArchiverReport::countReady).orElse(-1);
        if (state.isPresent()) {
            ArchiverState s = state.get();
            if (s.stuck() && ready != 0) {
                fail.add("the archiver is stuck since " + s.lastErrorAt() + ": " + s.lastError()
                        + " (WAL waits in pg_wal, nothing is dropped; see " + repository.walArchiveLog() + ")");
            }
            if (s.offsitePending() > 0 && s.offsiteOldestPendingSince() != null
                    && Duration.between(s.offsiteOldestPendingSince(), now).compareTo(OFFSITE_LAG) > 0) {
                warn.add(s.offsitePending() + " archived file(s) not yet copied offsite, the oldest since " + s.offsiteOldestPendingSince()
                        + (s.offsiteLastError().isEmpty() ? "" : ": " + s.offsiteLastError()) + " ('pgbackup sync' copies them)");
            }
        }
        if ("async".equals(mode) && ready > BACKLOG_PER_WORKER * context.config().archiver().workers()) {
            warn.add(ready + " WAL files wait to be archived in pg_wal: the archiver does not keep up"
                    + " (raise PG_BACKUP_ARCHIVER_WORKERS, or check the repository's disk)");
        }
        return new StatusReport.ArchiverStatus(mode, ready, state.orElse(null));
    }

    /** What the installed archive_wal.sh does, from its {@code ARCHIVER=} line. */
    static String scriptMode(Path script) {
        try {
            for (String line : Files.readAllLines(script)) {
                if (line.startsWith("ARCHIVER=")) {
                    return line.substring("ARCHIVER=".length()).replace("'", "").strip();
                }
            }
            return Files.exists(script) ? "sync" : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    static int countReady(Path pgData) {
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(pgData.resolve("pg_wal/archive_status"), "*.ready")) {
            for (Path ignored : files) {
                n++;
            }
            return n;
        } catch (IOException e) {
            return -1;
        }
    }
}
