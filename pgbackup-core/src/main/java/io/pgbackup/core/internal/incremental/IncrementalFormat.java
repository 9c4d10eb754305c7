package io.pgbackup.core.internal.incremental;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * PostgreSQL 17's incremental relation file ({@code INCREMENTAL.<relfilenode>[.<segno>]}), the one
 * format both change-detection paths store: magic, block count, truncation length and the block
 * numbers as little-endian uint32s (what an x86-64 or arm64 server writes), zero padding to a page
 * boundary when any block follows, then the pages in the order listed.
 */
public final class IncrementalFormat {
    public static final int MAGIC = 0xd3ae1f0d;
    public static final int BLOCK_SIZE = 8192;
    /** Blocks in a 1 GiB segment: no incremental file lists more. */
    public static final int MAX_BLOCKS = 131072;
    public static final String PREFIX = "INCREMENTAL.";

    private IncrementalFormat() {
    }

    /** The header, as PostgreSQL: 12 bytes plus 4 per block, rounded up to a page when blocks follow. */
    public static long headerSize(int blocks) {
        long size = 12L + 4L * blocks;
        if (blocks > 0 && size % BLOCK_SIZE != 0) {
            size += BLOCK_SIZE - size % BLOCK_SIZE;
        }
        return size;
    }

    public static long fileSize(int blocks) {
        return headerSize(blocks) + (long) BLOCK_SIZE * blocks;
    }

    /** Writes the header (with its padding) for {@code count} blocks of {@code blockNumbers}. */
    public static void writeHeader(OutputStream out, int[] blockNumbers, int count, int truncationBlockLength)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) headerSize(count)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(count).putInt(truncationBlockLength);
        for (int i = 0; i < count; i++) {
            b.putInt(blockNumbers[i]);
        }
        out.write(b.array());
    }

    /**
     * The header of an incremental file, read from its start up to (and including) the padding:
     * {@code in} is then at the first page.
     */
    public static Header readHeader(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] fixed = new byte[12];
        readFully(data, fixed);
        ByteBuffer b = ByteBuffer.wrap(fixed).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt();
        if (magic != MAGIC) {
            throw new IOException("not an incremental file: magic " + Integer.toHexString(magic));
        }
        int count = b.getInt();
        int truncation = b.getInt();
        if (count < 0 || count > MAX_BLOCKS) {
            throw new IOException("incremental file lists " + Integer.toUnsignedString(count) + " blocks, more than a segment holds");
        }
        byte[] numbers = new byte[4 * count];
        readFully(data, numbers);
        ByteBuffer nb = ByteBuffer.wrap(numbers).order(ByteOrder.LITTLE_ENDIAN);
        int[] blocks = new int[count];
        for (int i = 0; i < count; i++) {
            blocks[i] = nb.getInt();
        }
        long padding = headerSize(count) - 12L - 4L * count;
        readFully(data, new byte[(int) padding]);
        return new Header(count, truncation, blocks);
    }

    private static void readFully(DataInputStream in, byte[] into) throws IOException {
        try {
            in.readFully(into);
        } catch (EOFException e) {
            throw new IOException("incremental file ends inside its header", e);
        }
    }

    /** Whether a file name (no directory) is an incremental file's. */
    public static boolean isIncrementalName(String fileName) {
        return fileName.startsWith(PREFIX);
    }

    /**
     * A parsed header.
     *
     * @param truncationBlockLength blocks below it not listed come from older backups
     * @param blockNumbers          segment-relative block numbers, in the order the pages follow
     */
    public record Header(int blockCount, int truncationBlockLength, int[] blockNumbers) {
        /** The reconstructed file's length in blocks, as pg_combinebackup computes it. */
        public long reconstructedBlocks() {
            long length = Integer.toUnsignedLong(truncationBlockLength);
            for (int b : blockNumbers) {
                length = Math.max(length, Integer.toUnsignedLong(b) + 1);
            }
            return length;
        }
    }
}
