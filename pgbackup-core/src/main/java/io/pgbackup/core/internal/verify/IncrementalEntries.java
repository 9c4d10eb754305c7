package io.pgbackup.core.internal.verify;

import io.pgbackup.core.internal.restore.IncrementalFile;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The {@code INCREMENTAL.} entries of a diff or incr backup's tars: each header must parse and
 * hold together, and every block it leaves to older backups (below its truncation length, not in
 * the entry) must exist there: below the length its parent recorded for the file, the parent
 * itself being verified the same way down to the full.
 */
final class IncrementalEntries {
    private final Supplier<Map<String, Long>> parentSizes;
    private Map<String, Long> sizes;

    /** {@code parentSizes}: each file's size in the parent's reassembled data directory, read on first need. */
    IncrementalEntries(Supplier<Map<String, Long>> parentSizes) {
        this.parentSizes = parentSizes;
    }

    /** The file's name without {@code INCREMENTAL.}, or null when {@code path} is no incremental entry. */
    static String fileOf(String path) {
        int slash = path.lastIndexOf('/');
        String last = path.substring(slash + 1);
        return last.startsWith(IncrementalFile.PREFIX) && last.length() > IncrementalFile.PREFIX.length()
                ? path.substring(0, slash + 1) + last.substring(IncrementalFile.PREFIX.length()) : null;
    }

    /** Reads the entry to its end; the problem with it, or null. */
    String check(String path, String file, long size, InputStream content, byte[] buffer) throws IOException {
        IncrementalFile header;
        try {
            header = IncrementalFile.read(content, size, path);
        } catch (IOException e) {
            drain(content, buffer);
            return e.getMessage();
        }
        long blocks = drain(content, buffer) / IncrementalFile.BLOCK_SIZE;
        if (blocks != header.blocks().length) {
            return path + " holds " + blocks + " blocks where its header lists " + header.blocks().length;
        }
        int needed = header.lastBlockFromOlder();
        if (needed < 0) {
            return null;
        }
        long parentBlocks = parent().getOrDefault(file, 0L) / IncrementalFile.BLOCK_SIZE;
        if (needed >= parentBlocks) {
            return path + " takes block " + needed + " of " + file + " from older backups, but the parent holds "
                    + parentBlocks + " blocks of it";
        }
        return null;
    }

    private synchronized Map<String, Long> parent() {
        if (sizes == null) {
            sizes = parentSizes.get();
        }
        return sizes;
    }

    private static long drain(InputStream in, byte[] buffer) throws IOException {
        long n = 0;
        int r;
        while ((r = in.read(buffer)) > 0) {
            n += r;
        }
        return n;
    }
}
