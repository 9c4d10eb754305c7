package io.pgbackup.core.internal.incremental;

import java.util.Map;

/**
 * Which pages of a relation segment an incremental backup stores: those at or beyond the parent's
 * length of the file, new pages (pd_upper 0) and pages with LSN 0, and pages whose LSN (pd_lsn,
 * the page's first 8 bytes) is at or after the parent's start. A page not changed since the parent
 * began has an older LSN; its content is in the chain.
 *
 * @param parentStartLsn the parent backup's start LSN
 * @param parentSizes    the parent's final size in bytes of each file, by data-directory path
 */
public record PageRule(long parentStartLsn, Map<String, Long> parentSizes) {
    public PageRule {
        parentSizes = Map.copyOf(parentSizes);
    }

    /** Blocks the parent had of this data-directory path (0 when it did not have the file). */
    long parentBlocks(String path) {
        Long size = parentSizes.get(path);
        return size == null ? 0 : size / IncrementalFormat.BLOCK_SIZE;
    }

    static boolean keep(byte[] page, long block, long parentBlocks, long parentStartLsn) {
        if (block >= parentBlocks) {
            return true;
        }
        long high = u32(page, 0);
        long low = u32(page, 4);
        long lsn = high << 32 | low;
        int upper = (page[14] & 0xff) | (page[15] & 0xff) << 8;
        return lsn == 0 || upper == 0 || Long.compareUnsigned(lsn, parentStartLsn) >= 0;
    }

    private static long u32(byte[] b, int at) {
        return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
    }
}
