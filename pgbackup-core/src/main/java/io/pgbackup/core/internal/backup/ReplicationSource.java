package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;

import io.pgbackup.core.backup.BackupOptions;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.postgres.PgPassFile;
import io.pgbackup.core.internal.postgres.replication.ArchiveStart;
import io.pgbackup.core.internal.postgres.replication.BaseBackupClient;
import io.pgbackup.core.internal.postgres.replication.BaseBackupRequest;
import io.pgbackup.core.internal.postgres.replication.BaseBackupResult;
import io.pgbackup.core.internal.postgres.replication.BaseBackupSink;
import io.pgbackup.core.internal.postgres.replication.ReplicationException;
import io.pgbackup.core.internal.postgres.replication.ReplicationSettings;
import io.pgbackup.core.storage.Compression;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A backup streamed over the replication protocol ({@code BASE_BACKUP}, WAL on a second
 * connection with a temporary slot), straight into the sink: nothing uncompressed touches the
 * repository's disk, each tablespace is an archive of its own, and any server from 12 on works
 * whatever client programs are installed.
 *
 * <p>The client closes its streams also when the backup fails, so a stream's close here only
 * ends its writing; the objects are committed once the whole backup succeeded.
 */
final class ReplicationSource implements BackupSource {
    private static final long PROGRESS_STEP = 64L << 20;

    private final PgBackupConfig config;

    ReplicationSource(PgBackupConfig config) {
        this.config = config;
    }

    @Override
    public Taken take(BackupRun run, ArchiveSink sink) {
        // Without PG_PASSWORD, the password comes from ~/.pgpass, as pg_basebackup found it through libpq.
        Optional<String> password = config.passwordForDriver().or(() ->
                PgPassFile.of(System.getenv()).lookup(config.host(), config.port(), "replication", config.requireUser()));
        ReplicationSettings settings = new ReplicationSettings(config.host(), config.port(), config.requireUser(), password,
                config.tls());
        // Server-side zstd (PostgreSQL 15+) sends each tar already compressed: nothing to recompress here.
        // A diff or incr reads its tars on the way (the page filter): they come uncompressed.
        Optional<String> serverCompression = !run.incremental() && run.compression() == Compression.ZSTD && run.server().info().versionNum() >= 150000
                && run.server().zstd()
                ? Optional.of("zstd:level=" + Compression.ZSTD.defaultLevel() + ",workers=" + Compression.defaultThreads())
                : Optional.empty();
        BaseBackupClient client = new BaseBackupClient(settings);
        run.serverCheck().whenComplete((facts, failure) -> {
            if (failure != null) {
                client.cancel();
            }
        });
        DeferredSink deferred = new DeferredSink(sink, run.options());
        BaseBackupResult result;
        try {
            result = client.run(new BaseBackupRequest(run.label(), run.options().fastCheckpoint(), serverCompression,
                    run.parentManifest()), deferred);
        } catch (IOException e) {
            if (run.parentManifest().isPresent() && e instanceof ReplicationException && deferred.opened.get() == 0) {
                run.server();
                throw new SummariesRefused(e.getMessage().strip().lines().findFirst().orElse("no reason given"));
            }
            if (deferred.storeFailure != null) {
                // Our side failed (a full disk): that is the cause, not the connection the client then dropped.
                throw new java.io.UncheckedIOException(deferred.storeFailure);
            }
            run.server(); // a refusal found by the server check explains more than a cancelled stream
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: " + explain(e.getMessage()), e);
        }
        run.server();
        try {
            deferred.commitAll();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (result.startTimeline() != result.endTimeline()) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: the server switched from timeline "
                    + result.startTimeline() + " to " + result.endTimeline() + " during the backup (a promotion?); run backup again");
        }
        List<BackupManifest.Tablespace> tablespaces = result.tablespaces().stream()
                .map(t -> new BackupManifest.Tablespace(t.oid(), t.location())).toList();
        return new Taken(result.startTimeline(), result.startLsn().value(), result.endLsn().value(), tablespaces,
                result.inRecovery());
    }

    /** The server's words, with a hint for the usual causes. */
    static String explain(String message) {
        String line = message == null || message.isBlank() ? "the server closed the connection" : message.strip().lines().findFirst().orElse(message);
        String lower = line.toLowerCase(Locale.ROOT);
        String hint = "";
        if (lower.contains("password authentication failed")) {
            hint = " (check PG_USER_NAME and PG_PASSWORD)";
        } else if (lower.contains("peer authentication failed")) {
            hint = " (peer authentication: run pgbackup as the OS user named by PG_USER_NAME)";
        } else if (lower.contains("connection refused") || lower.contains("cannot connect") || lower.contains("could not connect")) {
            hint = " (is the server running? check PG_HOST and PG_PORT)";
        } else if (lower.contains("no pg_hba.conf entry for replication") && !lower.contains("accepts only tls")) {
            hint = " (allow replication connections for this user in pg_hba.conf)";
        } else if (lower.contains("must be superuser or replication") || lower.contains("permission denied to start wal sender")) {
            hint = " (grant it with: ALTER USER ... REPLICATION)";
        } else if (lower.contains("number of requested standby connections exceeds max_wal_senders")
                || lower.contains("max_wal_senders")) {
            hint = " (a backup needs two free WAL senders: raise max_wal_senders)";
        }
        return line + hint + "; nothing was kept";
    }

    /** Hands out the sink's streams; their closing is held back until {@link #commitAll()}. */
    private static final class DeferredSink implements BaseBackupSink {
        private final ArchiveSink sink;
        private final BackupOptions options;
        private final List<OutputStream> finished = new ArrayList<>();
        private volatile IOException storeFailure;
        private long reported;
        private final java.util.concurrent.atomic.AtomicInteger opened = new java.util.concurrent.atomic.AtomicInteger();

        DeferredSink(ArchiveSink sink, BackupOptions options) {
            this.sink = sink;
            this.options = options;
        }

        @Override
        public OutputStream archive(ArchiveStart archive) throws IOException {
            return deferred(opened(() -> sink.archive(archive.name())));
        }

        @Override
        public OutputStream walArchive() throws IOException {
            return deferred(opened(() -> sink.archive("pg_wal.tar")));
        }

        @Override
        public OutputStream manifest() throws IOException {
            return deferred(opened(sink::manifest));
        }

        private OutputStream opened(StreamOpener opener) throws IOException {
            try {
                opened.incrementAndGet();
                return opener.open();
            } catch (IOException e) {
                if (storeFailure == null) {
                    storeFailure = e;
                }
                throw e;
            }
        }

        @Override
        public void progress(long doneBytes, long totalBytes) {
            options.listener().update("backup", doneBytes, totalBytes);
            if (options.reportsProgress() && (doneBytes - reported >= PROGRESS_STEP || doneBytes >= totalBytes)) {
                reported = doneBytes;
                long percent = totalBytes > 0 ? Math.min(100, doneBytes * 100 / totalBytes) : 0;
                options.progress().accept((doneBytes >> 10) + "/" + (totalBytes >> 10) + " kB (" + percent + "%)");
            }
        }

        private OutputStream deferred(OutputStream target) {
            return new FilterOutputStream(target) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    try {
                        out.write(b, off, len);
                    } catch (IOException e) {
                        if (storeFailure == null) {
                            storeFailure = e;
                        }
                        throw e;
                    }
                }

                @Override
                public void close() throws IOException {
                    synchronized (finished) {
                        finished.add(out);
                    }
                }
            };
        }

        @FunctionalInterface
        private interface StreamOpener {
            OutputStream open() throws IOException;
        }

        void commitAll() throws IOException {
            synchronized (finished) {
                for (OutputStream out : finished) {
                    out.close();
                }
            }
        }
    }
}
