package io.pgbackup.core.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * Reads a file while another process is still appending to it, like {@code tail -f} that knows
 * when to stop: at the end of the file it waits for more until {@code writerFinished} says the
 * writer has ended, then reads what is left and reports the end. This lets a backup compress
 * {@code base.tar} while pg_basebackup is still writing it, instead of after.
 *
 * <p>At the end of the file it waits on the writer's end itself, a few milliseconds at a time
 * before looking for more data, so the wait is bounded by the writer: the caller stops the
 * writer (pg_basebackup) when the backup must give up.
 *
 * <p>Only for files the writer appends to and never rewrites; the caller checks the final size.
 */
public final class FollowingFileInputStream extends InputStream {
    /** How long to wait on the writer's end before looking at the file again. */
    private static final Duration RECHECK = Duration.ofMillis(5);

    /** The process appending to the file. */
    @FunctionalInterface
    public interface Writer {
        /** Waits up to {@code wait} for the writer to end, returning as soon as it does; true once it has. */
        boolean awaitEnd(Duration wait) throws InterruptedException;
    }

    private final Path file;
    private final Writer writer;
    private FileChannel channel;
    private boolean writerSeenFinished;
    private long position;

    public FollowingFileInputStream(Path file, Writer writer) {
        this.file = file;
        this.writer = writer;
    }

    /** Bytes read so far. */
    public long position() {
        return position;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (true) {
            if (channel == null) {
                open();
            }
            if (channel != null) {
                int n = channel.read(ByteBuffer.wrap(b, off, len));
                if (n > 0) {
                    position += n;
                    return n;
                }
            }
            if (writerSeenFinished) {
                return -1;
            }
            // Checked before one more read: anything written before the writer ended is then seen.
            if (writerEnded()) {
                writerSeenFinished = true;
            }
        }
    }

    private void open() throws IOException {
        if (Files.exists(file)) {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        }
    }

    private boolean writerEnded() throws InterruptedIOException {
        try {
            return writer.awaitEnd(RECHECK);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while following a file being written");
        }
    }

    /** True when the file was created (by the writer) at some point. */
    public boolean opened() {
        return channel != null;
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }
}
