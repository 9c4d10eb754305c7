package io.pgbackup.core.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.Deflater;

/** The gzip member header and trailer (RFC 1952) around {@link ParallelGzipOutputStream}'s deflate stream. */
final class GzipFraming {
    private static final int GZIP_MAGIC = 0x8b1f;

    private GzipFraming() {
    }

    static void writeHeader(OutputStream out, int level) throws IOException {
        // XFL tells readers how hard the compressor tried: 2 = slowest, 4 = fastest (RFC 1952).
        int extraFlags = level == 9 ? 2 : level == 1 ? 4 : 0;
        out.write(new byte[] {
                (byte) GZIP_MAGIC, (byte) (GZIP_MAGIC >> 8), Deflater.DEFLATED, 0, // no name, no comment
                0, 0, 0, 0, // no modification time
                (byte) extraFlags, (byte) 255, // OS unknown
        });
    }

    static void writeTrailer(OutputStream out, long crc, long totalIn) throws IOException {
        byte[] trailer = new byte[8];
        putIntLe(trailer, 0, crc);
        putIntLe(trailer, 4, totalIn); // ISIZE is the length modulo 2^32
        out.write(trailer);
    }

    private static void putIntLe(byte[] b, int at, long v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
        b[at + 2] = (byte) (v >> 16);
        b[at + 3] = (byte) (v >> 24);
    }
}
