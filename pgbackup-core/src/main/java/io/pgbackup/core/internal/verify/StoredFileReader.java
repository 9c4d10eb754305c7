package io.pgbackup.core.internal.verify;

import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.ReadAheadInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import io.pgbackup.core.internal.storage.Repository;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Reads a stored repository file to its very end in one pass: the SHA-256 and size of the bytes
 * stored, the decompressed stream to its end (so gzip's CRC-32 and the zstd/lz4 frame checksums
 * are checked) and, for a tar, every entry to its end. Memory is a few bounded buffers whatever
 * the file's size; decompression runs on a thread of its own ahead of the tar reader.
 */
final class StoredFileReader {
    private static final int RAW_BUFFER = 256 * 1024;
    private static final int CHUNK = 1 << 20;
    private static final int CHUNKS_AHEAD = 4;

    private StoredFileReader() {
    }

    /** What was read: the stored bytes' size and SHA-256, and how many bytes they decompressed to. */
    record Outcome(long storedBytes, String sha256, long plainBytes) {
    }

    /** Sees each regular file of a tar; reads as much of {@code content} as it wants, the rest is skipped. */
    @FunctionalInterface
    interface EntryVisitor {
        void visit(String path, long size, InputStream content) throws IOException;
    }

    /** Sees the decompressed bytes of a plain (non-tar) file. */
    @FunctionalInterface
    interface ContentVisitor {
        void visit(InputStream content) throws IOException;
    }

    /** Reads a compressed tar; entry paths come without a leading {@code ./}. Corrupt data surfaces as an IOException. */
    static Outcome readTar(Repository repository, String key, Compression compression, EntryVisitor visitor) throws IOException {
        return readTar(repository, key, compression, null, visitor);
    }

    /** {@link #readTar}, telling {@code counter} (when not null) the stored bytes as they are read. */
    static Outcome readTar(Repository repository, String key, Compression compression, ProgressCounter counter, EntryVisitor visitor)
            throws IOException {
        return read(repository, key, compression, true, counter, plain -> {
            TarArchiveInputStream tar = new TarArchiveInputStream(plain);
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (entry.isFile()) {
                    String name = entry.getName();
                    while (name.startsWith("./")) {
                        name = name.substring(2);
                    }
                    visitor.visit(name, entry.getSize(), tar);
                }
            }
        });
    }

    /** Reads a compressed file (a WAL segment) to its end. */
    static Outcome readFile(Repository repository, String key, Compression compression, ContentVisitor visitor) throws IOException {
        return readFile(repository, key, compression, null, visitor);
    }

    static Outcome readFile(Repository repository, String key, Compression compression, ProgressCounter counter,
                            ContentVisitor visitor) throws IOException {
        return read(repository, key, compression, false, counter, visitor::visit);
    }

    private static Outcome read(Repository repository, String key, Compression compression, boolean readAhead,
                                ProgressCounter counter, ContentVisitor visitor) throws IOException {
        InputStream stored = repository.rawStorage().open(key);
        try (HashingInputStream raw = new HashingInputStream(new BufferedInputStream(
                counter == null ? stored : counter.wrap(stored), RAW_BUFFER));
             CountingInputStream plain = new CountingInputStream(new DrainAtEnd(compression.decompress(repository.unseal(key, raw)), raw));
             InputStream source = readAhead ? new ReadAheadInputStream(plain, CHUNK, CHUNKS_AHEAD, key.substring(key.lastIndexOf('/') + 1)) : plain) {
            visitor.visit(source);
            // Past the tar's end-of-archive blocks: the compressed stream's trailer and checksum come last.
            source.transferTo(OutputStream.nullOutputStream());
            return new Outcome(raw.count, HexFormat.of().formatHex(raw.sha.digest()), plain.count);
        }
    }

    /** Once the decompressed stream ends, reads what the decompressor left unread, so the hash covers every stored byte. */
    private static final class DrainAtEnd extends FilterInputStream {
        private final InputStream raw;

        DrainAtEnd(InputStream decompressed, InputStream raw) {
            super(decompressed);
            this.raw = raw;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b < 0) {
                raw.transferTo(OutputStream.nullOutputStream());
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n < 0) {
                raw.transferTo(OutputStream.nullOutputStream());
            }
            return n;
        }
    }

    private static class CountingInputStream extends FilterInputStream {
        long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
                onBytes(new byte[] {(byte) b}, 0, 1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                onBytes(b, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            // Skipping would bypass the hash; read instead.
            byte[] buffer = new byte[(int) Math.min(n, 8192)];
            int read = read(buffer, 0, buffer.length);
            return Math.max(read, 0);
        }

        void onBytes(byte[] b, int off, int len) {
        }
    }

    private static final class HashingInputStream extends CountingInputStream {
        final MessageDigest sha = Digests.sha256();

        HashingInputStream(InputStream in) {
            super(in);
        }

        @Override
        void onBytes(byte[] b, int off, int len) {
            sha.update(b, off, len);
        }
    }
}
