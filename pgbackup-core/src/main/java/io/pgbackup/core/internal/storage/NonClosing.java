package io.pgbackup.core.internal.storage;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Streams whose {@code close()} leaves the stream below open, for code that closes what it is
 * given (an encoder, a tar reader) when its owner still has work to do on the stream below.
 */
public final class NonClosing {
    private NonClosing() {
    }

    /** Writes through (in blocks, not byte by byte as FilterOutputStream would); close only flushes. */
    public static OutputStream output(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }

    /** Reads through; close does nothing. */
    public static InputStream input(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public void close() {
            }
        };
    }
}
