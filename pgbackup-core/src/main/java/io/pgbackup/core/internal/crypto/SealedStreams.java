package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.storage.Storage.ObjectWriter;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The stream wrappers of {@link SealingStorage}: finishing a sealed write, naming what fails authentication. */
final class SealedStreams {
    private SealedStreams() {
    }

    /** A writer whose commit first finishes the sealing stream (Tink writes the last segment's tag on close). */
    static final class SealedWriter implements ObjectWriter {
        private final ObjectWriter writer;
        private final OutputStream stream;

        SealedWriter(ObjectWriter writer, OutputStream stream) {
            this.writer = writer;
            this.stream = stream;
        }

        @Override
        public OutputStream stream() {
            return stream;
        }

        @Override
        public void commit() throws IOException {
            stream.close();
            writer.commit();
        }

        @Override
        public void close() throws IOException {
            writer.close();
        }
    }

    /** Remembers whether the stored bytes failed to arrive, so a storage error is not called an altered object. */
    static final class RawTracking extends FilterInputStream {
        volatile boolean failed;

        RawTracking(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                failed = true;
                throw e;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                failed = true;
                throw e;
            }
        }
    }

    /** Turns Tink's failures into one line naming the object; counts what it opens for the opening warm-up. */
    static final class Authenticating extends FilterInputStream {
        private final RawTracking raw;
        private final String key;
        private final CipherWarmUp.ForOpening warmUp;

        Authenticating(InputStream plain, RawTracking raw, String key, CipherWarmUp.ForOpening warmUp) {
            super(plain);
            this.raw = raw;
            this.key = key;
            this.warmUp = warmUp;
        }

        private IOException translate(IOException e) {
            if (raw.failed || e instanceof SealedFormat.AuthenticationException) {
                return e;
            }
            return new SealedFormat.AuthenticationException(key + " failed authentication: it was altered, damaged or"
                    + " truncated, or copied over another object's name; refused");
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw translate(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                int n = super.read(b, off, len);
                if (n > 0) {
                    warmUp.opened(n);
                }
                return n;
            } catch (IOException e) {
                throw translate(e);
            }
        }

        @Override
        public long skip(long n) throws IOException {
            try {
                return super.skip(n);
            } catch (IOException e) {
                throw translate(e);
            }
        }
    }
}
