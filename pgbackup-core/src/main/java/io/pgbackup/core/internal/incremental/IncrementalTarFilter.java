package io.pgbackup.core.internal.incremental;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Rewrites one of the server's tars on its way to the repository. Every regular file is noted in
 * the {@link FileListing}; with a {@link PageRule}, each relation segment becomes
 * {@code INCREMENTAL.<name>} holding only the pages the rule keeps. A segment streams page by page:
 * the kept pages go to a spool file (the entry's size must precede its data in the tar), never to
 * memory, so a 1 GiB segment costs 8 KiB of heap and its block list.
 */
public final class IncrementalTarFilter extends OutputStream {
    private enum State { HEADER, PASS, RELATION, TRAILER }

    private final OutputStream out;
    private final String pathPrefix;
    private final boolean tablespace;
    private final Optional<PageRule> rule;
    private final FileListing listing;
    private final Path spoolDir;
    private final byte[] header = new byte[TarHeader.BLOCK];
    private final byte[] page = new byte[IncrementalFormat.BLOCK_SIZE];
    private State state = State.HEADER;
    private int filled;
    private long remaining;
    // the relation segment being filtered
    private TarHeader relationHeader;
    private String relationPath;
    private long relationSize;
    private long block;
    private long parentBlocks;
    private int[] kept = new int[1024];
    private int keptCount;
    private Path spoolFile;
    private FileChannel spool;
    private boolean closed;

    /**
     * @param pathPrefix {@code ""} for base.tar, {@code pg_tblspc/<oid>/} for a tablespace's tar:
     *                   what makes a tar path a data-directory path
     * @param rule       empty: pass everything through, only list the files
     */
    public IncrementalTarFilter(OutputStream out, String pathPrefix, Optional<PageRule> rule, FileListing listing,
                                Path spoolDir) {
        this.out = out;
        this.pathPrefix = pathPrefix;
        this.tablespace = !pathPrefix.isEmpty();
        this.rule = rule;
        this.listing = listing;
        this.spoolDir = spoolDir;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = switch (state) {
                case HEADER -> fillHeader(b, off, len);
                case PASS -> pass(b, off, len);
                case RELATION -> fillPage(b, off, len);
                case TRAILER -> {
                    out.write(b, off, len);
                    yield len;
                }
            };
            off += n;
            len -= n;
        }
    }

    private int fillHeader(byte[] b, int off, int len) throws IOException {
        int n = Math.min(len, TarHeader.BLOCK - filled);
        System.arraycopy(b, off, header, filled, n);
        filled += n;
        if (filled == TarHeader.BLOCK) {
            filled = 0;
            startEntry();
        }
        return n;
    }

    private void startEntry() throws IOException {
        if (TarHeader.isZero(header)) {
            out.write(header);
            state = State.TRAILER;
            closeSpool();
            return;
        }
        TarHeader h = TarHeader.of(header);
        long size = h.size();
        String path = h.path();
        if (h.isRegularFile()) {
            listing.add(pathPrefix + path, size);
        }
        if (h.isRegularFile() && rule.isPresent() && size % IncrementalFormat.BLOCK_SIZE == 0
                && RelationPath.isMainForkSegment(path, tablespace)) {
            relationHeader = h;
            relationPath = path;
            relationSize = size;
            remaining = size;
            block = 0;
            keptCount = 0;
            parentBlocks = rule.get().parentBlocks(pathPrefix + path);
            state = State.RELATION;
            if (size == 0) {
                finishRelation();
            }
            return;
        }
        out.write(header);
        remaining = size + TarHeader.padding(size);
        state = remaining == 0 ? State.HEADER : State.PASS;
    }

    private int pass(byte[] b, int off, int len) throws IOException {
        int n = (int) Math.min(len, remaining);
        out.write(b, off, n);
        remaining -= n;
        if (remaining == 0) {
            state = State.HEADER;
        }
        return n;
    }

    private int fillPage(byte[] b, int off, int len) throws IOException {
        int n = Math.min(len, page.length - filled);
        System.arraycopy(b, off, page, filled, n);
        filled += n;
        if (filled == page.length) {
            filled = 0;
            if (PageRule.keep(page, block, parentBlocks, rule.orElseThrow().parentStartLsn())) {
                keep((int) block);
            }
            block++;
            remaining -= page.length;
            if (remaining == 0) {
                finishRelation();
            }
        }
        return n;
    }

    private void keep(int blockNumber) throws IOException {
        if (spool == null) {
            Files.createDirectories(spoolDir);
            spoolFile = Files.createTempFile(spoolDir, "pages-", ".spool");
            spool = FileChannel.open(spoolFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        if (keptCount == kept.length) {
            kept = java.util.Arrays.copyOf(kept, kept.length * 2);
        }
        kept[keptCount++] = blockNumber;
        ByteBuffer buffer = ByteBuffer.wrap(page);
        while (buffer.hasRemaining()) {
            spool.write(buffer);
        }
    }

    /** Writes the segment's INCREMENTAL entry: header, block list, then the spooled pages. */
    private void finishRelation() throws IOException {
        long size = IncrementalFormat.fileSize(keptCount);
        out.write(relationHeader.renamed(RelationPath.incrementalPath(relationPath), size).bytes());
        IncrementalFormat.writeHeader(out, kept, keptCount, (int) (relationSize / IncrementalFormat.BLOCK_SIZE));
        if (keptCount > 0) {
            out.flush();
            WritableByteChannel target = Channels.newChannel(out);
            long pages = (long) keptCount * IncrementalFormat.BLOCK_SIZE;
            long done = 0;
            while (done < pages) {
                done += spool.transferTo(done, pages - done, target);
            }
            spool.truncate(0);
            spool.position(0);
        }
        out.write(new byte[(int) TarHeader.padding(size)]);
        if (kept.length > 1024) {
            kept = new int[1024]; // a big segment's list goes with it
        }
        keptCount = 0;
        state = State.HEADER;
    }

    /** Whether the tar ended where an entry ended (its end-of-archive blocks, or between entries). */
    public boolean endedCleanly() {
        return state == State.TRAILER || state == State.HEADER && filled == 0;
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        closeSpool();
        if (rule.isPresent() && !endedCleanly()) {
            // the stream stays uncommitted: the failed backup's objects are removed
            throw new IOException("the server's tar ended inside an entry");
        }
        out.close();
    }

    /** Drops the spool of a failed backup (its stream is never closed). */
    public void discardSpool() throws IOException {
        closeSpool();
    }

    private void closeSpool() throws IOException {
        if (spool != null) {
            try {
                spool.close();
            } finally {
                spool = null;
                Files.deleteIfExists(spoolFile);
            }
        }
    }
}
