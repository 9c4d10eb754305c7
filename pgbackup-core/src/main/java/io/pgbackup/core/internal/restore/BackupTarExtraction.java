package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.NonClosing;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.ReadAheadInputStream;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;
import io.pgbackup.core.internal.storage.StoredName;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One stored tar of a backup extracted below a root, decompressed ahead on a thread of its own;
 * from a bucket its SHA-256 is checked on the way (one download, not two), a mismatch failing the
 * restore before recovery.signal. {@link #open} and {@link Opened#extractInto} apart let a chain
 * restore start decompressing its next member while the current one is being written.
 */
final class BackupTarExtraction {
    /** Decompressed bytes kept ahead of the extractor, per tar: 4 chunks of 1 MiB. */
    private static final int CHUNK = 1 << 20;
    private static final int DEPTH = 4;

    private BackupTarExtraction() {
    }

    /** With {@code writer}, onto the files already there (see {@link ChainExtractor}); {@code seen} collects the entries. */
    static long extract(Repository repository, BackupInfo backup, String fileName, Path into, Consumer<Path> written,
                        ProgressCounter counter, InPlaceWriter writer, Set<String> seen) throws IOException {
        try (Opened opened = open(repository, backup, fileName)) {
            return opened.extractInto(into, written, counter, writer, seen);
        }
    }

    /** Opens the stored tar: its download and decompression start now, on a thread of their own. */
    static Opened open(Repository repository, BackupInfo backup, String fileName) throws IOException {
        String key = backup.fileKey(fileName);
        if (!RestoreExecutor.checksWhileExtracting(repository)) {
            return new Opened(backup, fileName, new ReadAheadInputStream(repository.openDecoded(key), CHUNK, DEPTH, fileName), null, null);
        }
        MessageDigest sha = StoredFileCheck.sha256();
        Counting raw = new Counting(new java.security.DigestInputStream(repository.rawStorage().open(key), sha));
        try {
            InputStream ahead = new ReadAheadInputStream(StoredName.parse(key).compression().decompress(repository.unseal(key, raw)),
                    CHUNK, DEPTH, fileName);
            return new Opened(backup, fileName, ahead, raw, sha);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    /** A stored tar being read; {@link #close} stops its read-ahead. */
    static final class Opened implements Closeable {
        private final BackupInfo backup;
        private final String fileName;
        private final InputStream ahead;
        private final Counting raw;
        private final MessageDigest sha;

        private Opened(BackupInfo backup, String fileName, InputStream ahead, Counting raw, MessageDigest sha) {
            this.backup = backup;
            this.fileName = fileName;
            this.ahead = ahead;
            this.raw = raw;
            this.sha = sha;
        }

        /** Extracts every entry below {@code into}; from a bucket, then checks the stored file's SHA-256. */
        long extractInto(Path into, Consumer<Path> written, ProgressCounter counter, InPlaceWriter writer, Set<String> seen)
                throws IOException {
            // The extractor closes its stream at the tar's end; the rest of the file may still have to pass the digest.
            long bytes = new SafeTarExtractor(into, written, writer, seen).extract(NonClosing.input(counter.wrap(ahead)), fileName);
            if (raw == null) {
                return bytes;
            }
            // To the decoded end (the read-ahead thread has then read all it will), then whatever the
            // codec left unread: the digest covers the whole stored file.
            ahead.transferTo(OutputStream.nullOutputStream());
            raw.transferTo(OutputStream.nullOutputStream());
            BackupManifest.BackupFile recorded = backup.manifest().files().stream().filter(f -> f.name().equals(fileName)).findFirst()
                    .orElseThrow(() -> new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id() + " has no "
                            + fileName + " in its manifest"));
            String problem = StoredFileCheck.contentProblem(raw.count, StoredFileCheck.hex(sha), recorded.size(), recorded.sha256());
            if (problem != null) {
                throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id() + " is damaged: " + fileName + " "
                        + problem + "; use another backup (see 'pgbackup list', 'pgbackup verify --all')");
            }
            return bytes;
        }

        @Override
        public void close() throws IOException {
            try {
                ahead.close();
            } finally {
                if (raw != null) {
                    raw.close();
                }
            }
        }
    }

    /** Counts the stored bytes read. */
    private static final class Counting extends java.io.FilterInputStream {
        private long count;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            count += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            count += Math.max(n, 0);
            return n;
        }
    }
}
