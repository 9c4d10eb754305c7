package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The archive half of BASE_BACKUP's answer: the tar archives (and the manifest) read from the
 * main connection's COPY OUT stream(s) into the {@link BaseBackupSink}. Every COPY stream is
 * read by {@link PgWireConnection#readCopyOut}; this class only says where each CopyData goes.
 * One receiver serves one backup.
 */
final class ArchiveReceiver {
    private static final byte[] TAR_END = new byte[2 * WalTarWriter.BLOCK];

    private final PgWireConnection main;
    private final List<TablespaceInfo> tablespaces;
    private final BaseBackupSink sink;
    private final long total;
    /** The stream being written, closed (after failure too) before the next one opens. */
    private OutputStream current;
    private long done;
    private long lastReport;

    /** {@code tablespaces} as BASE_BACKUP listed them, the data directory (oid 0) last. */
    ArchiveReceiver(PgWireConnection main, List<TablespaceInfo> tablespaces, BaseBackupSink sink) {
        this.main = main;
        this.tablespaces = tablespaces;
        this.sink = sink;
        this.total = tablespaces.stream().mapToLong(TablespaceInfo::estimatedBytes).sum();
    }

    /** PostgreSQL 15+: one COPY stream, each CopyData tagged n(ew archive), d(ata), p(rogress), m(anifest). */
    void receiveStream() throws IOException {
        main.awaitCopyOut("waiting for the backup's archives");
        try {
            main.readCopyOut("during the backup's COPY stream", this::streamMessage);
            switchTo(null);
        } finally {
            closeAfterFailure(current);
        }
    }

    private void streamMessage(BackendMessage m) throws IOException {
        ByteBuffer p = m.payload();
        byte kind = p.get();
        switch (kind) {
            case 'n' -> {
                String name = m.cstring();
                String location = m.cstring();
                switchTo(null);
                current = sink.archive(new ArchiveStart(name, oidFor(location, name), location));
            }
            case 'm' -> {
                switchTo(null);
                current = sink.manifest();
            }
            case 'd' -> {
                if (current == null) {
                    throw new IOException("server at " + main.address() + " sent backup data before naming its archive");
                }
                current.write(p.array(), p.arrayOffset() + p.position(), p.remaining());
            }
            case 'p' -> sink.progress(p.getLong(), total);
            default -> throw new IOException("unknown base backup message '" + (char) kind + "' from server at "
                    + main.address());
        }
    }

    /** Closes the current stream (its failure fails the backup) and makes {@code next} current. */
    private void switchTo(OutputStream next) throws IOException {
        OutputStream previous = current;
        current = null;
        closeQuietlyOnSuccess(previous);
        current = next;
    }

    private long oidFor(String location, String name) {
        if (location.isEmpty()) {
            return 0;
        }
        for (TablespaceInfo t : tablespaces) {
            if (t.location().equals(location)) {
                return t.oid();
            }
        }
        String digits = name.replaceFirst("\\..*$", "");
        return digits.matches("\\d+") ? Long.parseLong(digits) : 0;
    }

    /**
     * PostgreSQL 12-14: one COPY stream per tablespace, the data directory last, then (13+) one
     * with the manifest. These servers leave out the two zero blocks that end a tar file;
     * pg_basebackup adds them, and so does this.
     */
    void receiveLegacy(boolean manifest) throws IOException {
        for (TablespaceInfo t : tablespaces) {
            main.awaitCopyOut("waiting for archive of "
                    + (t.oid() == 0 ? "the data directory" : "tablespace " + t.oid()));
            String name = t.oid() == 0 ? "base.tar" : t.oid() + ".tar";
            OutputStream out = sink.archive(new ArchiveStart(name, t.oid(), t.location()));
            copyInto(out, true);
            try {
                out.write(TAR_END);
            } catch (IOException | RuntimeException e) {
                closeAfterFailure(out);
                throw e;
            }
            closeQuietlyOnSuccess(out);
        }
        if (manifest) {
            main.awaitCopyOut("waiting for the backup manifest");
            OutputStream out = sink.manifest();
            copyInto(out, false);
            closeQuietlyOnSuccess(out);
        }
    }

    /** Copies one COPY OUT stream into {@code out}; counts it as archive progress when {@code counted}. */
    private void copyInto(OutputStream out, boolean counted) throws IOException {
        lastReport = System.nanoTime();
        try {
            main.readCopyOut("during a COPY stream of the backup", m -> {
                ByteBuffer p = m.payload();
                out.write(p.array(), p.arrayOffset() + p.position(), p.remaining());
                if (counted) {
                    done += p.remaining();
                    if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(1)) {
                        sink.progress(done, total);
                        lastReport = System.nanoTime();
                    }
                }
            });
            if (counted) {
                sink.progress(done, total);
            }
        } catch (IOException | RuntimeException e) {
            closeAfterFailure(out);
            throw e;
        }
    }

    /** Closes a finished stream; its failure (e.g. the sink could not write) fails the backup. */
    private static void closeQuietlyOnSuccess(OutputStream out) throws IOException {
        if (out != null) {
            out.close();
        }
    }

    private static void closeAfterFailure(OutputStream out) {
        if (out != null) {
            try {
                out.close();
            } catch (IOException | RuntimeException e) {
                // the backup already failed; this is the sink's cleanup
            }
        }
    }
}
