package io.pgbackup.core.internal.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads its source on a thread of its own into a few bounded chunks, so that decompressing a
 * file and writing what it holds run on two cores at once. Memory stays at
 * {@code depth × chunkSize} whatever the file's size.
 */
public final class ReadAheadInputStream extends InputStream {
    private static final byte[] END = new byte[0];

    private final BlockingQueue<Object> queue;
    private final Thread reader;
    private final InputStream source;
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;
    private volatile boolean closed;

    public ReadAheadInputStream(InputStream source, int chunkSize, int depth, String name) {
        this.source = source;
        this.queue = new ArrayBlockingQueue<>(depth);
        this.reader = new Thread(() -> pump(chunkSize), "read-ahead " + name);
        this.reader.setDaemon(true);
        this.reader.start();
    }

    private void pump(int chunkSize) {
        try {
            while (!closed) {
                byte[] chunk = source.readNBytes(chunkSize);
                if (chunk.length == 0) {
                    break;
                }
                queue.put(chunk);
            }
            queue.put(END);
        } catch (IOException | RuntimeException e) {
            offerQuietly(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void offerQuietly(Exception e) {
        try {
            queue.put(e);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean fill() throws IOException {
        if (ended) {
            return false;
        }
        if (position < current.length) {
            return true;
        }
        Object next;
        try {
            next = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading ahead");
        }
        if (next instanceof IOException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (next instanceof RuntimeException e) {
            throw e;
        }
        current = (byte[]) next;
        position = 0;
        if (current == END) {
            ended = true;
            return false;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        return fill() ? current[position++] & 0xFF : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        reader.interrupt();
        queue.clear();
        source.close();
    }
}
