package io.pgbackup.core.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A gzip writer that compresses on several threads, in the manner of pigz, and produces one
 * ordinary gzip member that {@code gzip -d}, {@code tar -xzf}, {@link java.util.zip.GZIPInputStream}
 * and commons-compress read like any other.
 *
 * <p>The input is cut into blocks. Each block is deflated on its own by a worker, primed with the
 * previous block's last 32 KiB as preset dictionary (so matches across the cut are not lost), and
 * ended with a sync flush (an empty stored block), which byte-aligns it; only the last block carries
 * the final-block bit. The concatenation of those pieces is one valid deflate stream. The CRC-32 is
 * computed on the calling thread, which is cheap (it is an intrinsic).
 *
 * <p>Memory is bounded whatever the input size: at most {@code 2 × threads} blocks are in flight;
 * a writer that outruns the workers waits for the oldest block. Buffers and deflaters are reused.
 * A stream shorter than one block is compressed on the calling thread and starts no thread.
 *
 * <p>Not thread-safe, like every {@link OutputStream}. {@link #close()} finishes the stream and
 * closes the underlying one; {@link #finish()} finishes without closing it. If a write to the
 * underlying stream fails, the workers are stopped and every later call fails.
 */
final class ParallelGzipOutputStream extends OutputStream {
    /**
     * zlib level 4 is the first level with lazy matching. On a pgbench scale-50 base tar on 2
     * threads: level 2 1.37 s at 1.026x the size of {@code pg_basebackup -z} (gzip 6) when freshly
     * vacuumed but 1.10x after some pgbench traffic; level 4 1.79 s at 1.007-1.04x on every input
     * measured (bench/README.md). The size bound (1.06x) is kept on all of them, so level 4.
     */
    public static final int DEFAULT_LEVEL = 4;
    /** Large enough that per-block costs vanish, small enough that many threads stay cheap. */
    public static final int DEFAULT_BLOCK_SIZE = 512 * 1024;
    /** Deflate's window: the most history a match can reach back to. */
    static final int DICTIONARY_SIZE = 32 * 1024;

    private static final AtomicInteger STREAMS = new AtomicInteger();

    private final OutputStream out;
    private final int level;
    private final int threads;
    private final int blockSize;
    private final int maxInFlight;
    private final CRC32 crc = new CRC32();
    private final ArrayDeque<Future<GzipBlockDeflater.Chunk>> inFlight = new ArrayDeque<>();
    private final ArrayDeque<byte[]> spareInputs = new ArrayDeque<>();
    private final ArrayDeque<byte[]> spareOutputs = new ArrayDeque<>();
    private final ArrayDeque<byte[]> spareDictionaries = new ArrayDeque<>();
    private final GzipBlockDeflater deflater;

    private ExecutorService pool;
    private byte[] block;
    private int filled;
    private byte[] dictionary;
    private long totalIn;
    private boolean finished;
    private boolean closed;
    private Throwable failure;

    /** Level {@link #DEFAULT_LEVEL}, one thread per available processor. */
    public ParallelGzipOutputStream(OutputStream out) throws IOException {
        this(out, DEFAULT_LEVEL, Runtime.getRuntime().availableProcessors());
    }

    public ParallelGzipOutputStream(OutputStream out, int level, int threads) throws IOException {
        this(out, level, threads, DEFAULT_BLOCK_SIZE);
    }

    /**
     * @param level     zlib level 1 (fastest) to 9 (smallest)
     * @param threads   compressing threads; 1 compresses on the calling thread
     * @param blockSize bytes per independently compressed block, at least 32 KiB
     */
    public ParallelGzipOutputStream(OutputStream out, int level, int threads, int blockSize) throws IOException {
        this.out = Objects.requireNonNull(out, "out");
        if (level < 1 || level > 9) {
            throw new IllegalArgumentException("gzip level must be 1..9, not " + level);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        if (blockSize < DICTIONARY_SIZE) {
            throw new IllegalArgumentException("block size must be at least " + DICTIONARY_SIZE + ", not " + blockSize);
        }
        this.level = level;
        this.deflater = new GzipBlockDeflater(level);
        this.threads = threads;
        this.blockSize = blockSize;
        this.maxInFlight = 2 * threads;
        this.block = new byte[blockSize];
        GzipFraming.writeHeader(out, level);
    }

    public int level() {
        return level;
    }

    public int threads() {
        return threads;
    }

    @Override
    public void write(int b) throws IOException {
        ensureWritable();
        try {
            if (filled == blockSize) {
                submit(false);
            }
            block[filled++] = (byte) b;
            totalIn++;
        } catch (IOException | RuntimeException | Error e) {
            throw abort(e);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        ensureWritable();
        try {
            while (len > 0) {
                // A full block is handed over only when more data arrives, so the last block is never empty.
                if (filled == blockSize) {
                    submit(false);
                }
                int n = Math.min(len, blockSize - filled);
                System.arraycopy(b, off, block, filled, n);
                filled += n;
                off += n;
                len -= n;
                totalIn += n;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw abort(e);
        }
    }

    /**
     * Writes out every block already handed to the workers and flushes the underlying stream.
     * The block being filled stays buffered: cutting it short would cost compression, and gzip
     * readers cannot use a partial member anyway.
     */
    @Override
    public void flush() throws IOException {
        ensureOpen();
        try {
            while (!inFlight.isEmpty()) {
                writeChunk(await(inFlight.poll()));
            }
            out.flush();
        } catch (IOException | RuntimeException | Error e) {
            throw abort(e);
        }
    }

    /** Compresses what is buffered and writes the gzip trailer, leaving the underlying stream open. */
    public void finish() throws IOException {
        ensureOpen();
        if (finished) {
            return;
        }
        try {
            submit(true);
            while (!inFlight.isEmpty()) {
                writeChunk(await(inFlight.poll()));
            }
            GzipFraming.writeTrailer(out, crc.getValue(), totalIn);
            out.flush();
            finished = true;
        } catch (IOException | RuntimeException | Error e) {
            throw abort(e);
        }
        releaseWorkers(false);
    }

    /** Finishes the stream (unless a write failed) and closes the underlying one. Idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        Throwable primary = null;
        try {
            if (failure != null) {
                primary = new IOException("gzip stream is incomplete: an earlier write failed", failure);
            } else {
                finish();
            }
        } catch (IOException | RuntimeException | Error e) {
            primary = e;
        } finally {
            closed = true;
            releaseWorkers(primary != null);
            try {
                out.close();
            } catch (IOException | RuntimeException e) {
                if (primary == null) {
                    primary = e;
                } else {
                    primary.addSuppressed(e);
                }
            }
        }
        if (primary instanceof IOException io) {
            throw io;
        } else if (primary instanceof RuntimeException re) {
            throw re;
        } else if (primary instanceof Error err) {
            throw err;
        }
    }

    private void submit(boolean last) throws IOException {
        byte[] input = block;
        int length = filled;
        byte[] preset = dictionary;
        crc.update(input, 0, length);
        if (!last) {
            // A copy, so the block buffer can be reused while the next block still needs its tail.
            dictionary = spareDictionaries.isEmpty() ? new byte[DICTIONARY_SIZE] : spareDictionaries.poll();
            System.arraycopy(input, length - DICTIONARY_SIZE, dictionary, 0, DICTIONARY_SIZE);
        }
        byte[] output = spareOutputs.isEmpty() ? new byte[outputCapacity(blockSize)] : spareOutputs.poll();
        GzipBlockDeflater.Job job = new GzipBlockDeflater.Job(input, length, preset, last, output);
        if (pool == null && (threads == 1 || last)) {
            writeChunk(deflater.deflate(job));
        } else {
            while (inFlight.size() >= maxInFlight) {
                writeChunk(await(inFlight.poll()));
            }
            inFlight.add(pool().submit(() -> deflater.deflate(job)));
            // Write what is already done now, so finished output does not wait in memory.
            while (!inFlight.isEmpty() && inFlight.peek().isDone()) {
                writeChunk(await(inFlight.poll()));
            }
        }
        // After the last block nothing is written (ensureWritable), so no buffer is needed.
        block = last ? null : spareInputs.isEmpty() ? new byte[blockSize] : spareInputs.poll();
        filled = 0;
    }

    private GzipBlockDeflater.Chunk await(Future<GzipBlockDeflater.Chunk> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for gzip compression");
        } catch (ExecutionException e) {
            throw new IOException("gzip compression failed in a worker thread", e.getCause() == null ? e : e.getCause());
        }
    }

    private void writeChunk(GzipBlockDeflater.Chunk chunk) throws IOException {
        out.write(chunk.output(), 0, chunk.length());
        spareInputs.add(chunk.input());
        spareOutputs.add(chunk.output());
        if (chunk.dictionary() != null) {
            spareDictionaries.add(chunk.dictionary());
        }
    }

    /** Room for a block that does not compress: stored blocks add 5 bytes per 16 KiB, plus the flush marker. */
    private static int outputCapacity(int inputSize) {
        return inputSize + (inputSize >> 8) + 64;
    }

    private ExecutorService pool() {
        if (pool == null) {
            int id = STREAMS.incrementAndGet();
            // Daemon threads: a stream its owner never closes must not keep the JVM alive; and its
            // idle threads go away on their own. Built here, not by internal.concurrent.Pools: the
            // public Compression API hands this stream out and may not depend on internal code.
            java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.ThreadPoolExecutor executor = new java.util.concurrent.ThreadPoolExecutor(threads, threads,
                    10, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), task -> {
                        Thread t = new Thread(task, "pgbackup-gzip-" + id + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            executor.allowCoreThreadTimeOut(true);
            pool = executor;
        }
        return pool;
    }

    private IOException abort(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        releaseWorkers(true);
        if (cause instanceof IOException io) {
            return io;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        throw (RuntimeException) cause;
    }

    private void releaseWorkers(boolean cancel) {
        if (cancel) {
            inFlight.forEach(f -> f.cancel(true));
            inFlight.clear();
        }
        if (pool != null) {
            if (cancel) {
                pool.shutdownNow();
            } else {
                pool.shutdown();
            }
            try {
                // Workers end their deflaters' native memory only once they have stopped touching them.
                if (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("gzip worker threads did not stop");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deflater.endAll();
        spareInputs.clear();
        spareOutputs.clear();
        spareDictionaries.clear();
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("gzip stream is closed");
        }
        if (failure != null) {
            throw new IOException("gzip stream is unusable: an earlier write failed", failure);
        }
    }

    private void ensureWritable() throws IOException {
        ensureOpen();
        if (finished) {
            throw new IOException("gzip stream is finished");
        }
    }
}
