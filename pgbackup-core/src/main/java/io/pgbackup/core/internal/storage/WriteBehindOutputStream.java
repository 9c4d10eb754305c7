package io.pgbackup.core.internal.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Writes to its target on a thread of its own from a few bounded chunks, so that what produces
 * the bytes (a backup's receiving and compressing thread) never waits for what consumes them (the
 * sealing cipher, slow in the first megabytes of a JVM until the JIT compiles it). Memory stays at
 * {@code depth × chunkSize}. {@link #close()} waits until the target has taken and closed
 * everything and throws what it failed with; {@link #abandon()} stops it without closing the target.
 */
public final class WriteBehindOutputStream extends OutputStream {
    private static final byte[] END = new byte[0];

    private final BlockingQueue<byte[]> queue;
    private final Thread writer;
    private final OutputStream target;
    private final int chunkSize;
    private byte[] chunk;
    private int used;
    private volatile Throwable failure;
    private volatile boolean abandoned;
    private boolean closed;

    public WriteBehindOutputStream(OutputStream target, int chunkSize, int depth, String name) {
        this.target = target;
        this.chunkSize = chunkSize;
        this.queue = new ArrayBlockingQueue<>(depth);
        this.chunk = new byte[chunkSize];
        this.writer = new Thread(this::drain, "write-behind " + name);
        this.writer.setDaemon(true);
        this.writer.start();
    }

    private void drain() {
        try {
            for (byte[] next; (next = queue.take()) != END; ) {
                if (abandoned) {
                    return;
                }
                target.write(next);
            }
            if (!abandoned) {
                target.close();
            }
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
            queue.clear();
        } catch (InterruptedException e) {
            failure = new InterruptedIOException(writer.getName() + " was interrupted");
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        requireOpen();
        while (len > 0) {
            int n = Math.min(len, chunkSize - used);
            System.arraycopy(b, off, chunk, used, n);
            used += n;
            off += n;
            len -= n;
            if (used == chunkSize) {
                handOver(chunk);
                chunk = new byte[chunkSize];
                used = 0;
            }
        }
    }

    private void handOver(byte[] bytes) throws IOException {
        try {
            // A failed writer takes nothing more: poll so a full queue does not wait for it forever.
            while (!queue.offer(bytes, 50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                rethrowFailure();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while handing bytes to " + writer.getName());
        }
        rethrowFailure();
    }

    private void requireOpen() throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        rethrowFailure();
    }

    private void rethrowFailure() throws IOException {
        Throwable f = failure;
        if (f instanceof IOException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (f instanceof RuntimeException e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
    }

    /** Hands over what is left, waits for the target to take it all and be closed, and throws what it failed with. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        requireOpen();
        if (used > 0) {
            handOver(java.util.Arrays.copyOf(chunk, used));
        }
        handOver(END);
        closed = true;
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while " + writer.getName() + " finished");
        }
        rethrowFailure();
    }

    /**
     * Stops the writer without closing the target (the object is being discarded) and waits for it,
     * so the target is not written while it is removed. Not by interrupting: that would close a file
     * channel under the thread's feet.
     */
    public void abandon() {
        closed = true;
        abandoned = true;
        queue.clear();
        queue.offer(END);
        boolean interrupted = false;
        while (writer.isAlive()) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
