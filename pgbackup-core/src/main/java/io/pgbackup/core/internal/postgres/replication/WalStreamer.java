package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The WAL half of a base backup, like pg_basebackup's background streamer: START_REPLICATION on
 * a temporary slot from the start of the backup's first segment, WAL written as pg_wal.tar into
 * the sink, until the backup's end position (known only once BASE_BACKUP is over, see
 * {@link #finishAt(Lsn)}) has been received. Runs on its own thread; the connection belongs to
 * it once {@link #run()} starts.
 */
final class WalStreamer {
    /** How often to tell the server how far we are, as pg_basebackup's default --status-interval. */
    private static final long STATUS_INTERVAL_MILLIS = 10_000;
    /** 2000-01-01 in Unix milliseconds: the epoch of the protocol's timestamps. */
    private static final long POSTGRES_EPOCH_MILLIS = 946_684_800_000L;

    private final PgWireConnection connection;
    private final String slot;
    private final long startLsn;
    private final int timeline;
    private final int segmentSize;
    private final BaseBackupSink sink;
    private volatile Lsn endLsn;
    private long position;
    private long lastStatusNanos;

    WalStreamer(PgWireConnection connection, String slot, Lsn backupStart, int timeline, int segmentSize,
                BaseBackupSink sink) {
        this.connection = connection;
        this.slot = slot;
        this.startLsn = backupStart.segmentStart(segmentSize).value();
        this.timeline = timeline;
        this.segmentSize = segmentSize;
        this.sink = sink;
    }

    /** From the backup thread: stream up to {@code end}, then stop. */
    void finishAt(Lsn end) {
        endLsn = end;
        connection.wakeup();
    }

    /** From any thread: stop now, the backup failed. */
    void abort() {
        connection.abort();
    }

    void run() throws IOException {
        try (OutputStream out = sink.walArchive()) {
            WalTarWriter tar = new WalTarWriter(out, segmentSize, timeline);
            if (timeline > 1) {
                // as pg_basebackup: the backup's timeline history goes along (a restore needs it)
                List<QueryResult> history = connection.query("TIMELINE_HISTORY " + timeline);
                QueryResult r = history.get(0);
                tar.historyFile(r.value(0, 0), r.value(0, 1).getBytes(StandardCharsets.UTF_8));
            }
            connection.sendQuery("START_REPLICATION SLOT \"" + slot + "\" PHYSICAL " + new Lsn(startLsn)
                    + " TIMELINE " + timeline);
            awaitCopyBoth();
            position = startLsn;
            lastStatusNanos = System.nanoTime();
            stream(tar);
            tar.finish();
        } finally {
            connection.close();
        }
    }

    private void awaitCopyBoth() throws IOException {
        while (true) {
            BackendMessage m = connection.read();
            switch (m.type()) {
                case 'W' -> {
                    return;
                }
                case 'N', 'S' -> { }
                case 'E' -> throw m.asError();
                default -> throw connection.protocolError("starting WAL streaming", m);
            }
        }
    }

    private void stream(WalTarWriter tar) throws IOException {
        while (!reachedEnd()) {
            long waitMillis = STATUS_INTERVAL_MILLIS
                    - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastStatusNanos);
            BackendMessage m = waitMillis <= 0 ? null : connection.read(waitMillis);
            if (m == null) {
                if (System.nanoTime() - lastStatusNanos >= TimeUnit.MILLISECONDS.toNanos(STATUS_INTERVAL_MILLIS)) {
                    sendStatus(false);
                }
                continue;
            }
            switch (m.type()) {
                case 'd' -> copyData(m.payload(), tar);
                case 'c' -> {
                    if (!reachedEnd()) {
                        throw new IOException("server at " + connection.address() + " ended WAL streaming at "
                                + new Lsn(position) + " on timeline " + timeline + ", before the backup's end "
                                + (endLsn == null ? "(not yet known)" : endLsn.toString())
                                + ": did the server change timeline (a standby promoted) or shut down?");
                    }
                }
                case 'E' -> throw m.asError();
                case 'N', 'S' -> { }
                default -> throw connection.protocolError("while streaming WAL", m);
            }
        }
        // like pg_basebackup: CopyDone, then let the server finish its side of the stream
        connection.send('c', new byte[0]);
        drainAfterCopyDone();
    }

    private void copyData(ByteBuffer p, WalTarWriter tar) throws IOException {
        byte kind = p.get();
        if (kind == 'w') {
            long dataStart = p.getLong();
            p.getLong(); // walEnd
            p.getLong(); // sendTime
            if (dataStart != position) {
                throw new IOException("server at " + connection.address() + " sent WAL at " + new Lsn(dataStart)
                        + ", expected " + new Lsn(position));
            }
            while (p.hasRemaining()) {
                int n = (int) Math.min(p.remaining(), tar.segmentRemaining());
                tar.write(position, p.array(), p.arrayOffset() + p.position(), n);
                p.position(p.position() + n);
                position += n;
                if (Long.remainderUnsigned(position, segmentSize) == 0 && reachedEnd()) {
                    return; // as pg_basebackup: the rest of this message is past the backup's end
                }
            }
        } else if (kind == 'k') {
            p.getLong(); // walEnd
            p.getLong(); // sendTime
            if (p.get() != 0) {
                sendStatus(false);
            }
        } else {
            throw new IOException("unknown streaming message '" + (char) kind + "' from server at "
                    + connection.address());
        }
    }

    private boolean reachedEnd() {
        Lsn end = endLsn;
        return end != null && Long.compareUnsigned(position, end.value()) >= 0;
    }

    /** Standby status update: received up to {@link #position}, "flushed" too (the sink has it), nothing applied. */
    private void sendStatus(boolean replyRequested) throws IOException {
        long now = (System.currentTimeMillis() - POSTGRES_EPOCH_MILLIS) * 1000;
        ByteBuffer b = ByteBuffer.allocate(1 + 8 + 8 + 8 + 8 + 1);
        b.put((byte) 'r').putLong(position).putLong(position).putLong(0).putLong(now)
                .put((byte) (replyRequested ? 1 : 0));
        connection.sendCopyData(b.array());
        lastStatusNanos = System.nanoTime();
    }

    /** After our CopyDone: skip WAL still in flight, up to the server's CopyDone and ReadyForQuery. */
    private void drainAfterCopyDone() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return; // all WAL is in; a slow goodbye is no reason to fail the backup
            }
            BackendMessage m = connection.read(left);
            if (m == null) {
                continue;
            }
            switch (m.type()) {
                case 'Z' -> {
                    return;
                }
                case 'E' -> throw m.asError();
                default -> { }
            }
        }
    }
}
