package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Takes a base backup over the replication protocol, as {@code pg_basebackup -Ft -X stream}
 * does, but hands every archive, pg_wal.tar and the manifest to a {@link BaseBackupSink} as
 * streams: nothing is written to disk here. Works with PostgreSQL 12 and newer (the
 * BASE_BACKUP protocol changed in 15; both are spoken).
 *
 * <p>A client runs one backup at a time. {@link #run} is interruptible, and {@link #cancel()}
 * from another thread ends a running backup; either way {@link #run} closes both connections,
 * waits for its WAL thread and throws.
 */
public final class BaseBackupClient {
    static final int MIN_VERSION = 120000;
    static final int NEXT_UNKNOWN_VERSION = 190000;
    private static final int NEW_PROTOCOL_VERSION = 150000;
    private static final int MANIFEST_VERSION = 130000;
    static final int INCREMENTAL_VERSION = 170000;
    private static final int UPLOAD_CHUNK = 128 * 1024;
    private static final long WAL_THREAD_JOIN_MILLIS = 30_000;

    private final ReplicationSettings settings;
    private final Object lock = new Object();
    private PgWireConnection mainConnection;
    private WalStreamer walStreamer;
    private boolean cancelled;

    public BaseBackupClient(ReplicationSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Ends a running backup from another thread: its connections close and {@link #run} throws. */
    public void cancel() {
        synchronized (lock) {
            cancelled = true;
            if (mainConnection != null) {
                mainConnection.abort();
            }
            if (walStreamer != null) {
                walStreamer.abort();
            }
        }
    }

    public BaseBackupResult run(BaseBackupRequest request, BaseBackupSink sink) throws IOException {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(sink, "sink");
        synchronized (lock) {
            cancelled = false;
        }
        PgWireConnection main = PgWireConnection.open(settings);
        PgWireConnection wal = null;
        Thread walThread = null;
        AtomicReference<Throwable> walFailure = new AtomicReference<>();
        try {
            register(main, null);
            ServerFacts facts = serverFacts(main, request);

            // The WAL connection and its slot come first: a slot made before BASE_BACKUP's
            // checkpoint holds every segment the backup needs (pg_basebackup makes it after).
            wal = PgWireConnection.open(settings);
            String slot = "pgbackup_" + wal.backendPid();
            wal.query("CREATE_REPLICATION_SLOT \"" + slot + "\" TEMPORARY PHYSICAL"
                    + (facts.version >= NEW_PROTOCOL_VERSION ? " (RESERVE_WAL)" : " RESERVE_WAL"));

            if (request.parentManifest().isPresent()) {
                uploadManifest(main, request.parentManifest().get(), facts.version);
            }
            main.sendQuery(baseBackupCommand(request, facts.version));
            QueryResult start = main.readResultSet("the backup's start position");
            Lsn startLsn = Lsn.parse(start.value(0, 0));
            int startTimeline = Integer.parseInt(start.value(0, 1));
            List<TablespaceInfo> tablespaces = tablespaces(main.readResultSet("the tablespace list"));

            WalStreamer streamer = new WalStreamer(wal, slot, startLsn, startTimeline, facts.walSegmentSize, sink);
            register(main, streamer);
            wal = null; // the WAL thread owns it now
            walThread = startWalThread(streamer, main, walFailure);

            ArchiveReceiver archives = new ArchiveReceiver(main, tablespaces, sink);
            if (facts.version >= NEW_PROTOCOL_VERSION) {
                archives.receiveStream();
            } else {
                archives.receiveLegacy(facts.version >= MANIFEST_VERSION);
            }
            QueryResult end = main.readResultSet("the backup's end position");
            Lsn endLsn = Lsn.parse(end.value(0, 0));
            int endTimeline = Integer.parseInt(end.value(0, 1));
            main.readUntilReady("BASE_BACKUP");

            streamer.finishAt(endLsn);
            joinWalThread(walThread, streamer, false);
            walThread = null;
            throwIfFailed(walFailure.get());
            if (endTimeline != startTimeline) {
                throw new IOException("the backup started on timeline " + startTimeline + " and ended on timeline "
                        + endTimeline + " (the server was promoted during the backup): take it again");
            }
            List<TablespaceInfo> infos = tablespaces.stream().filter(t -> t.oid() != 0).toList();
            return new BaseBackupResult(facts.version, facts.systemIdentifier, startLsn, startTimeline, endLsn,
                    endTimeline, facts.walSegmentSize, infos, facts.inRecovery);
        } catch (IOException | RuntimeException | Error e) {
            // read before stopping the WAL thread: only a WAL failure from before is the cause
            Throwable walError = walFailure.get();
            main.abort();
            if (walThread != null) {
                joinWalThread(walThread, walStreamer(), true);
            }
            if (isCancelled() || Thread.currentThread().isInterrupted()) {
                IOException c = new InterruptedIOException("the base backup was "
                        + (isCancelled() ? "cancelled" : "interrupted"));
                c.initCause(e);
                throw c;
            }
            // a WAL failure aborts the main connection: its error is the cause, the main one a symptom
            if (walError != null && walError != e) {
                walError.addSuppressed(e);
                throwIfFailed(walError);
            }
            throw e;
        } finally {
            register(null, null);
            main.close();
            if (wal != null) {
                wal.close();
            }
        }
    }

    /**
     * Sends the parent's backup_manifest as pg_basebackup does: UPLOAD_MANIFEST, CopyData in chunks,
     * CopyDone, then the command's result. The server keeps it for this connection's next BASE_BACKUP.
     */
    private static void uploadManifest(PgWireConnection main, byte[] manifest, int version) throws IOException {
        if (version < INCREMENTAL_VERSION) {
            throw new IOException("an incremental backup from WAL summaries needs PostgreSQL " + majorName(INCREMENTAL_VERSION)
                    + " or newer; the server at " + main.address() + " runs PostgreSQL " + majorName(version));
        }
        main.sendQuery("UPLOAD_MANIFEST");
        main.awaitCopyIn("answering UPLOAD_MANIFEST");
        for (int off = 0; off < manifest.length; off += UPLOAD_CHUNK) {
            main.sendCopyData(java.util.Arrays.copyOfRange(manifest, off, Math.min(manifest.length, off + UPLOAD_CHUNK)));
        }
        main.sendCopyDone();
        main.readUntilReady("UPLOAD_MANIFEST");
    }

    private record ServerFacts(int version, String systemIdentifier, int walSegmentSize, boolean inRecovery) {
    }

    /**
     * 12 to 18, the majors whose BASE_BACKUP this client speaks and the tests run: a newer server
     * may change the protocol, and a backup that only looks right is worse than a refusal.
     */
    static void requireSupported(int version, String address) throws IOException {
        if (version < MIN_VERSION) {
            throw new IOException("PostgreSQL " + majorName(version) + " is older than " + majorName(MIN_VERSION)
                    + ", which pgbackup needs (server at " + address + ")");
        }
        if (version >= NEXT_UNKNOWN_VERSION) {
            throw new IOException("PostgreSQL " + majorName(version) + " is newer than this pgbackup knows (12 to "
                    + majorName(NEXT_UNKNOWN_VERSION - 10000) + "; server at " + address
                    + "): use a pgbackup release that supports it");
        }
    }

    private ServerFacts serverFacts(PgWireConnection main, BaseBackupRequest request) throws IOException {
        int version = Integer.parseInt(showSetting(main, "server_version_num"));
        requireSupported(version, main.address());
        if (request.serverCompression().isPresent() && version < NEW_PROTOCOL_VERSION) {
            throw new IOException("server-side compression needs PostgreSQL " + majorName(NEW_PROTOCOL_VERSION)
                    + " or newer; the server at " + main.address() + " runs PostgreSQL " + majorName(version));
        }
        QueryResult identify = main.query("IDENTIFY_SYSTEM").get(0);
        String systemIdentifier = identify.value(0, 0);
        int segmentSize = parseSize(showSetting(main, "wal_segment_size"));
        // A walsender runs SHOW in a transaction, which is read-only exactly when in recovery
        // unless default_transaction_read_only makes every transaction so.
        boolean readOnly = "on".equals(showSetting(main, "transaction_read_only"));
        boolean defaultReadOnly = "on".equals(showSetting(main, "default_transaction_read_only"));
        String hotStandby = main.parameter("in_hot_standby");
        boolean inRecovery = hotStandby != null ? "on".equals(hotStandby) : readOnly && !defaultReadOnly;
        return new ServerFacts(version, systemIdentifier, segmentSize, inRecovery);
    }

    private static String showSetting(PgWireConnection c, String name) throws IOException {
        return c.query("SHOW " + name).get(0).value(0, 0);
    }

    static String majorName(int versionNum) {
        return versionNum >= 100000 ? String.valueOf(versionNum / 10000) : (versionNum / 10000) + "." + (versionNum / 100 % 100);
    }

    /** wal_segment_size as SHOW prints it: 16MB, 1GB, ... */
    static int parseSize(String text) throws IOException {
        String t = text.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        String digits = t;
        if (t.endsWith("KB")) {
            unit = 1024;
            digits = t.substring(0, t.length() - 2);
        } else if (t.endsWith("MB")) {
            unit = 1024 * 1024;
            digits = t.substring(0, t.length() - 2);
        } else if (t.endsWith("GB")) {
            unit = 1024 * 1024 * 1024;
            digits = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B")) {
            digits = t.substring(0, t.length() - 1);
        }
        try {
            long size = Long.parseLong(digits.trim()) * unit;
            if (size < 1024 * 1024 || size > 1024 * 1024 * 1024 || Long.bitCount(size) != 1) {
                throw new IOException("wal_segment_size " + text + " is not a power of two between 1MB and 1GB");
            }
            return (int) size;
        } catch (NumberFormatException e) {
            throw new IOException("cannot read wal_segment_size '" + text + "'");
        }
    }

    static String baseBackupCommand(BaseBackupRequest request, int version) {
        String label = "'" + request.label().replace("'", "''") + "'";
        if (version >= NEW_PROTOCOL_VERSION) {
            List<String> options = new ArrayList<>(List.of("LABEL " + label, "PROGRESS",
                    "CHECKPOINT '" + (request.fastCheckpoint() ? "fast" : "spread") + "'",
                    "WAIT false", "MANIFEST 'yes'", "TABLESPACE_MAP"));
            if (request.serverCompression().isPresent()) {
                options.add("COMPRESSION '" + request.compressionMethod().replace("'", "''") + "'");
                request.compressionDetail().ifPresent(d -> options.add("COMPRESSION_DETAIL '" + d.replace("'", "''") + "'"));
            }
            if (request.parentManifest().isPresent()) {
                options.add("INCREMENTAL");
            }
            return "BASE_BACKUP (" + String.join(", ", options) + ")";
        }
        return "BASE_BACKUP LABEL " + label + " PROGRESS" + (request.fastCheckpoint() ? " FAST" : "")
                + " NOWAIT TABLESPACE_MAP" + (version >= MANIFEST_VERSION ? " MANIFEST 'yes'" : "");
    }

    /** The tablespace list; the data directory is the row without OID (always last), oid 0 here. */
    private static List<TablespaceInfo> tablespaces(QueryResult rs) {
        List<TablespaceInfo> rows = new ArrayList<>();
        for (List<String> row : rs.rows()) {
            long oid = row.get(0) == null ? 0 : Long.parseLong(row.get(0));
            String location = row.get(1) == null ? "" : row.get(1);
            long kb = row.size() > 2 && row.get(2) != null ? Long.parseLong(row.get(2)) : 0;
            rows.add(new TablespaceInfo(oid, location, kb * 1024));
        }
        return rows;
    }

    private Thread startWalThread(WalStreamer streamer, PgWireConnection main, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                streamer.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
                main.abort(); // the backup cannot succeed without its WAL: stop the main stream too
            }
        }, "pgbackup-wal-stream");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Waits for the WAL thread. After a successful BASE_BACKUP it may still be catching up with
     * a slow sink, so that wait has no limit ({@link #cancel()} or an interrupt ends it); on
     * failure ({@code abort}) the thread is stopped first and waited for a bounded time. An
     * interrupt of the caller is kept for later so that no thread is left behind.
     */
    private static void joinWalThread(Thread t, WalStreamer streamer, boolean abort) throws IOException {
        if (abort && streamer != null) {
            streamer.abort();
            t.interrupt();
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAL_THREAD_JOIN_MILLIS);
        try {
            while (t.isAlive()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if ((abort || interrupted) && left <= 0) {
                    break;
                }
                try {
                    t.join(abort || interrupted ? Math.max(1, left) : 0);
                } catch (InterruptedException e) {
                    interrupted = true;
                    deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAL_THREAD_JOIN_MILLIS);
                    if (streamer != null) {
                        streamer.abort();
                    }
                    t.interrupt();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (interrupted && !abort) {
            throw new InterruptedIOException("interrupted while waiting for the WAL stream to end");
        }
    }

    private static void throwIfFailed(Throwable t) throws IOException {
        if (t == null) {
            return;
        }
        if (t instanceof IOException io) {
            throw io;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new IOException(t);
    }

    private void register(PgWireConnection main, WalStreamer streamer) throws IOException {
        synchronized (lock) {
            if (main != null && cancelled) {
                main.abort();
                if (streamer != null) {
                    streamer.abort();
                }
                throw new InterruptedIOException("the base backup was cancelled");
            }
            mainConnection = main;
            walStreamer = streamer;
        }
    }

    private WalStreamer walStreamer() {
        synchronized (lock) {
            return walStreamer;
        }
    }

    private boolean isCancelled() {
        synchronized (lock) {
            return cancelled;
        }
    }
}
