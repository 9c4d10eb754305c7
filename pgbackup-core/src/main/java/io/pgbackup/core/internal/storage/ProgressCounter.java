package io.pgbackup.core.internal.storage;

import io.pgbackup.core.progress.ProgressListener;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

/** Counts bytes read through any number of streams (one per thread) and tells a listener the running total. */
public final class ProgressCounter {
    private final String phase;
    private final long total;
    private final ProgressListener listener;
    private final AtomicLong done = new AtomicLong();

    public ProgressCounter(String phase, long total, ProgressListener listener) {
        this.phase = phase;
        this.total = total;
        this.listener = listener == null ? ProgressListener.NONE : listener;
    }

    public InputStream wrap(InputStream in) {
        if (listener == ProgressListener.NONE) {
            return in;
        }
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    add(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    add(n);
                }
                return n;
            }
        };
    }

    /** Synchronized so that listeners see the running total in order, whichever thread read. */
    public synchronized void add(long bytes) {
        listener.update(phase, done.addAndGet(bytes), total);
    }

    public long done() {
        return done.get();
    }
}
