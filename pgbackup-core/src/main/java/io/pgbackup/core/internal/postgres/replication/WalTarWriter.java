package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes streamed WAL as the pg_wal.tar of {@code pg_basebackup -X stream -Ft}: timeline history
 * files and whole segment files (the last one zero-padded to the segment size), each finished
 * segment and history file followed by an empty {@code archive_status/<name>.done}, and the two
 * zero blocks that end a tar file. Headers are those of PostgreSQL's tarCreateHeader. Segments
 * arrive in order, so each header can be written before the data and nothing needs seeking.
 */
final class WalTarWriter {
    static final int BLOCK = 512;
    private static final byte[] ZEROS = new byte[64 * 1024];

    private final OutputStream out;
    private final int segmentSize;
    private final int timeline;
    private String segmentName;
    private long segmentWritten;

    WalTarWriter(OutputStream out, int segmentSize, int timeline) {
        this.out = out;
        this.segmentSize = segmentSize;
        this.timeline = timeline;
    }

    void historyFile(String name, byte[] content) throws IOException {
        out.write(header(name, content.length));
        out.write(content);
        pad(content.length);
        done(name);
    }

    /** Appends WAL that starts at {@code lsn}, which must continue what was written before. */
    void write(long lsn, byte[] data, int offset, int length) throws IOException {
        if (segmentName == null) {
            if (Long.remainderUnsigned(lsn, segmentSize) != 0) {
                throw new IOException("WAL at " + new Lsn(lsn) + " does not start a segment");
            }
            segmentName = segmentFileName(timeline, Long.divideUnsigned(lsn, segmentSize), segmentSize);
            segmentWritten = 0;
            out.write(header(segmentName, segmentSize));
        }
        if (length > segmentSize - segmentWritten) {
            throw new IllegalArgumentException("WAL write crosses a segment boundary");
        }
        out.write(data, offset, length);
        segmentWritten += length;
        if (segmentWritten == segmentSize) {
            String finished = segmentName;
            segmentName = null;
            done(finished);
        }
    }

    /** Bytes the current segment still needs to be complete (the segment size when none is open). */
    long segmentRemaining() {
        return segmentName == null ? segmentSize : segmentSize - segmentWritten;
    }

    /** Pads the unfinished segment with zeros (pg_basebackup does not mark it done) and ends the tar file. */
    void finish() throws IOException {
        if (segmentName != null) {
            long left = segmentSize - segmentWritten;
            while (left > 0) {
                int n = (int) Math.min(left, ZEROS.length);
                out.write(ZEROS, 0, n);
                left -= n;
            }
            segmentName = null;
        }
        out.write(ZEROS, 0, 2 * BLOCK);
        out.flush();
    }

    private void done(String name) throws IOException {
        out.write(header("archive_status/" + name + ".done", 0));
    }

    private void pad(long size) throws IOException {
        int padding = (int) ((BLOCK - size % BLOCK) % BLOCK);
        out.write(ZEROS, 0, padding);
    }

    static String segmentFileName(int timeline, long segmentNumber, int segmentSize) {
        long segmentsPerId = 0x1_0000_0000L / segmentSize;
        return String.format("%08X%08X%08X", timeline, segmentNumber / segmentsPerId, segmentNumber % segmentsPerId);
    }

    /** A regular file's ustar header as PostgreSQL's tarCreateHeader writes it: mode 0600, uid/gid 0, owner "postgres". */
    static byte[] header(String name, long size) {
        byte[] h = new byte[BLOCK];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length > 99) {
            throw new IllegalArgumentException("tar entry name too long: " + name);
        }
        System.arraycopy(n, 0, h, 0, n.length);
        number(h, 100, 8, 0600);
        number(h, 108, 8, 0);
        number(h, 116, 8, 0);
        number(h, 124, 12, size);
        number(h, 136, 12, System.currentTimeMillis() / 1000);
        h[156] = '0';
        ascii(h, 257, "ustar");
        ascii(h, 263, "00");
        ascii(h, 265, "postgres");
        ascii(h, 297, "postgres");
        number(h, 329, 8, 0);
        number(h, 337, 8, 0);
        int sum = 8 * ' ';
        for (int i = 0; i < BLOCK; i++) {
            if (i < 148 || i >= 156) {
                sum += h[i] & 0xFF;
            }
        }
        number(h, 148, 8, sum);
        return h;
    }

    /** Octal with a trailing space, or base-256 when it does not fit (print_tar_number). */
    private static void number(byte[] h, int offset, int length, long value) {
        if (value < 1L << ((length - 1) * 3)) {
            h[offset + length - 1] = ' ';
            long v = value;
            for (int i = length - 2; i >= 0; i--) {
                h[offset + i] = (byte) ('0' + (v & 7));
                v >>>= 3;
            }
        } else {
            Arrays.fill(h, offset, offset + length, (byte) 0);
            h[offset] = (byte) 0x80;
            long v = value;
            for (int i = length - 1; i > 0; i--) {
                h[offset + i] = (byte) (v & 0xFF);
                v >>>= 8;
            }
        }
    }

    private static void ascii(byte[] h, int offset, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, offset, b.length);
    }
}
