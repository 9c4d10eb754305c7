package io.pgbackup.core.storage;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.zip.Deflater;

/**
 * Deflates one block of a {@link ParallelGzipOutputStream}: primed with the previous block's last
 * 32 KiB, ended with a sync flush (or finished, for the last block), so the blocks' outputs
 * concatenate into one deflate stream. Deflaters are reused across blocks and threads.
 */
final class GzipBlockDeflater {
    /** A block to deflate; {@code output} is a buffer to deflate into (grown when too small). */
    record Job(byte[] input, int length, byte[] dictionary, boolean last, byte[] output) {
    }

    /** A deflated block, with the buffers it used, for reuse. */
    record Chunk(byte[] input, byte[] dictionary, byte[] output, int length) {
    }

    private final int level;
    // Workers take and return deflaters concurrently; endAll() ends them all.
    private final ConcurrentLinkedQueue<Deflater> deflaters = new ConcurrentLinkedQueue<>();

    GzipBlockDeflater(int level) {
        this.level = level;
    }

    /** On a worker thread: one block, with a deflater reused from an earlier block where there is one. */
    Chunk deflate(Job job) {
        Deflater deflater = deflaters.poll();
        if (deflater == null) {
            deflater = new Deflater(level, true);
        }
        try {
            if (job.dictionary != null) {
                deflater.setDictionary(job.dictionary);
            }
            deflater.setInput(job.input, 0, job.length);
            byte[] output = job.output;
            int written = 0;
            if (job.last) {
                deflater.finish();
                while (!deflater.finished()) {
                    if (written == output.length) {
                        output = Arrays.copyOf(output, output.length * 2);
                    }
                    written += deflater.deflate(output, written, output.length - written, Deflater.NO_FLUSH);
                }
            } else {
                // SYNC_FLUSH ends with an empty stored block: byte-aligned, not final, so blocks concatenate.
                while (true) {
                    int room = output.length - written;
                    int n = deflater.deflate(output, written, room, Deflater.SYNC_FLUSH);
                    written += n;
                    if (n < room) {
                        break;
                    }
                    output = Arrays.copyOf(output, output.length * 2);
                }
            }
            deflater.reset();
            deflaters.add(deflater);
            deflater = null;
            return new Chunk(job.input, job.dictionary, output, written);
        } finally {
            if (deflater != null) {
                deflater.end();
            }
        }
    }

    /** Frees the native memory of every idle deflater; only once the workers have stopped. */
    void endAll() {
        Deflater d;
        while ((d = deflaters.poll()) != null) {
            d.end();
        }
    }
}
