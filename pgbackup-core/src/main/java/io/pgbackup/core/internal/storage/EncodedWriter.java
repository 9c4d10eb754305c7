package io.pgbackup.core.internal.storage;

import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.OutputStream;

/** A stored file being written through its codec. */
public final class EncodedWriter implements AutoCloseable {
    private final Storage.ObjectWriter writer;
    private final OutputStream encoded;

    EncodedWriter(Storage.ObjectWriter writer, OutputStream encoded) {
        this.writer = writer;
        this.encoded = encoded;
    }

    public OutputStream stream() {
        return encoded;
    }

    /** Finishes the encoding and commits the object. */
    public void commit() throws IOException {
        encoded.close();
        writer.commit();
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }
}
