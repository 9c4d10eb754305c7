package io.pgbackup.core.internal.restore;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * The header of a relation segment stored as PostgreSQL 17's {@code INCREMENTAL.<file>}: magic
 * {@code 0xd3ae1f0d}, the block count, the truncation block length and the block numbers (each a
 * little-endian uint32, as the server writes them on x86 and ARM), padded to a whole block when
 * there are blocks; the blocks follow in the order of their numbers in the header. Read from a
 * stream: a header with absurd counts or block numbers is refused before any block is written.
 *
 * @param blocks                 the block numbers, in the order their contents follow
 * @param truncationBlockLength  blocks below this the file keeps from the older backup; at and past it, only
 *                               blocks of this file exist
 */
public record IncrementalFile(int[] blocks, int truncationBlockLength) {
    static final int MAGIC = 0xd3ae1f0d;
    public static final int BLOCK_SIZE = 8192;
    /** Blocks per 1 GiB relation segment: no count or block number may reach it. */
    static final int SEGMENT_BLOCKS = 131072;
    public static final String PREFIX = "INCREMENTAL.";

    /** Bytes before the first block: 12 + 4 per block, rounded up to a block when there are any. */
    long headerLength() {
        long raw = 12L + 4L * blocks.length;
        return blocks.length == 0 ? raw : (raw + BLOCK_SIZE - 1) / BLOCK_SIZE * BLOCK_SIZE;
    }

    /** What the whole entry must weigh. */
    long entryLength() {
        return headerLength() + (long) blocks.length * BLOCK_SIZE;
    }

    /** The highest block below the truncation length this file lacks (an older backup must hold it), or -1 when none. */
    public int lastBlockFromOlder() {
        java.util.BitSet listed = new java.util.BitSet();
        for (int b : blocks) {
            listed.set(b);
        }
        return truncationBlockLength == 0 ? -1 : listed.previousClearBit(truncationBlockLength - 1);
    }

    /** Whether every block below the truncation length is here: no older version of the file is needed. */
    boolean complete() {
        return lastBlockFromOlder() < 0;
    }

    /** The reassembled file's length: the truncation length, or further to hold every block sent. */
    long fileLength() {
        long length = truncationBlockLength;
        for (int b : blocks) {
            length = Math.max(length, b + 1L);
        }
        return length * BLOCK_SIZE;
    }

    /**
     * Reads the header of an entry of {@code entrySize} bytes (the padding included), refusing one
     * whose magic, counts, block numbers or size do not hold together.
     */
    public static IncrementalFile read(InputStream in, long entrySize, String name) throws IOException {
        ByteBuffer fixed = ByteBuffer.wrap(readFully(in, 12, name)).order(ByteOrder.LITTLE_ENDIAN);
        int magic = fixed.getInt();
        if (magic != MAGIC) {
            throw bad(name, "has no incremental file magic (0x" + Integer.toHexString(magic) + ")");
        }
        int count = fixed.getInt();
        int truncation = fixed.getInt();
        if (Integer.compareUnsigned(count, SEGMENT_BLOCKS) > 0) {
            throw bad(name, "claims " + Integer.toUnsignedString(count) + " blocks, more than a segment holds (" + SEGMENT_BLOCKS + ")");
        }
        if (Integer.compareUnsigned(truncation, SEGMENT_BLOCKS) > 0) {
            throw bad(name, "has a truncation length of " + Integer.toUnsignedString(truncation) + " blocks, more than a segment holds");
        }
        int[] blocks = new int[count];
        ByteBuffer numbers = ByteBuffer.wrap(readFully(in, 4 * count, name)).order(ByteOrder.LITTLE_ENDIAN);
        java.util.BitSet seen = new java.util.BitSet();
        for (int i = 0; i < count; i++) {
            blocks[i] = numbers.getInt();
            if (Integer.compareUnsigned(blocks[i], SEGMENT_BLOCKS) >= 0) {
                throw bad(name, "names block " + Integer.toUnsignedString(blocks[i]) + ", past the end of a segment");
            }
            if (seen.get(blocks[i])) {
                throw bad(name, "names block " + blocks[i] + " twice");
            }
            seen.set(blocks[i]);
        }
        IncrementalFile file = new IncrementalFile(blocks, truncation);
        if (entrySize != file.entryLength()) {
            throw bad(name, "is " + entrySize + " bytes where its header says " + file.entryLength());
        }
        in.skipNBytes(file.headerLength() - 12 - 4L * count);
        return file;
    }

    /**
     * Writes the blocks that follow the header into {@code target} at their places, then cuts or
     * zero-extends it to {@link #fileLength()}, as pg_combinebackup reassembles a file over its
     * older version. {@code onlyChanged}: a block already on disk with the same bytes is not
     * rewritten (delta restore). Returns the bytes written.
     */
    long apply(InputStream in, FileChannel target, boolean onlyChanged, String name) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(BLOCK_SIZE);
        ByteBuffer onDisk = onlyChanged ? ByteBuffer.allocate(BLOCK_SIZE) : null;
        long written = 0;
        for (int b : blocks) {
            block.clear();
            block.put(readFully(in, BLOCK_SIZE, name)).flip();
            long at = (long) b * BLOCK_SIZE;
            if (onDisk != null && sameAsOnDisk(target, at, block, onDisk)) {
                continue;
            }
            while (block.hasRemaining()) {
                target.write(block, at + block.position());
            }
            written += BLOCK_SIZE;
        }
        resize(target, fileLength());
        return written;
    }

    /** Cuts the file to {@code length}, or extends it with zeros (a hole) to it. */
    static void resize(FileChannel target, long length) throws IOException {
        long size = target.size();
        if (size > length) {
            target.truncate(length);
        } else if (size < length) {
            target.write(ByteBuffer.allocate(1), length - 1);
        }
    }

    static boolean sameAsOnDisk(FileChannel target, long at, ByteBuffer wanted, ByteBuffer scratch) throws IOException {
        scratch.clear();
        while (scratch.hasRemaining()) {
            int n = target.read(scratch, at + scratch.position());
            if (n < 0) {
                return false;
            }
        }
        scratch.flip();
        return scratch.equals(wanted);
    }

    private static byte[] readFully(InputStream in, int n, String name) throws IOException {
        byte[] bytes = in.readNBytes(n);
        if (bytes.length != n) {
            throw new EOFException(name + " ends early: " + bytes.length + " of " + n + " bytes");
        }
        return bytes;
    }

    private static IOException bad(String name, String why) {
        return new SafeTarExtractor.UnsafeEntryException("incremental file " + name + " " + why + ": the backup is damaged or forged");
    }
}
