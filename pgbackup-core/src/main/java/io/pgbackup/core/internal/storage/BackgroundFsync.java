package io.pgbackup.core.internal.storage;

import io.pgbackup.core.internal.concurrent.Futures;
import io.pgbackup.core.internal.concurrent.Pools;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * fsyncs files on a thread of its own while the caller goes on writing the next ones, then their
 * directories in {@link #finish()}. A restore extracts with the CPU busy decompressing; flushing
 * each file as soon as it is complete lets the disk work at the same time, and PostgreSQL's own
 * sync of the data directory at start-up then finds nothing left to write.
 */
public final class BackgroundFsync implements AutoCloseable {
    private final ExecutorService pool;
    private final List<Future<?>> pending = new ArrayList<>();
    private final Set<Path> directories = new LinkedHashSet<>();
    /** Files whose flush is queued and not started yet. */
    private final Set<Path> queued = new java.util.HashSet<>();

    public BackgroundFsync() {
        pool = Pools.single("pgbackup-fsync").executor();
    }

    /** Queues {@code file} (complete and closed) to be flushed; its directory is flushed by {@link #finish()}. */
    public synchronized void submit(Path file) {
        directories.add(file.toAbsolutePath().getParent());
        if (!queued.add(file)) {
            return; // already waiting for its flush, which will cover this write too (a chain restore rewrites files)
        }
        pending.add(pool.submit(() -> {
            synchronized (this) {
                queued.remove(file);
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
                channel.force(true);
            } catch (java.nio.file.NoSuchFileException gone) {
                // removed since (a chain restore prunes what the newest backup dropped): the directory's fsync covers it
            }
            return null;
        }));
    }

    /** Waits for every queued file, then flushes their directories; the first failure is thrown. */
    public void finish() throws IOException {
        List<Future<?>> all;
        List<Path> dirs;
        synchronized (this) {
            all = new ArrayList<>(pending);
            dirs = new ArrayList<>(directories);
        }
        try {
            for (Future<?> f : all) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while syncing files", e);
        } catch (ExecutionException e) {
            throw Futures.cause(e) instanceof IOException io ? io : new IOException(Futures.cause(e));
        }
        for (Path dir : dirs) {
            AtomicFiles.fsyncDirectory(dir);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
