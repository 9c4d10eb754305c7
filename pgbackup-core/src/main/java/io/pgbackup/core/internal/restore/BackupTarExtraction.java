package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.ReadAheadInputStream;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;
import io.pgbackup.core.internal.storage.StoredName;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * One stored tar of a backup extracted below a root, decompressed ahead on a thread of its own;
 * from a bucket its SHA-256 is checked on the way (one download, not two), a mismatch failing the
 * restore before recovery.signal.
 */
final class BackupTarExtraction {
    private BackupTarExtraction() {
    }

    /** With {@code writer}, onto the files already there (see {@link ChainExtractor}); {@code seen} collects the entries. */
    static long extract(Repository repository, BackupInfo backup, String fileName, Path into,
                           java.util.function.Consumer<Path> written, io.pgbackup.core.internal.storage.ProgressCounter counter,
                           InPlaceWriter writer, java.util.Set<String> seen) throws IOException {
        String key = backup.fileKey(fileName);
        if (!RestoreExecutor.checksWhileExtracting(repository)) {
            try (InputStream ahead = new ReadAheadInputStream(repository.openDecoded(key), 1 << 20, 4, fileName)) {
                return new SafeTarExtractor(into, written, writer, seen).extract(counter.wrap(ahead), fileName);
            }
        }
        MessageDigest sha = StoredFileCheck.sha256();
        long[] stored = {0};
        InputStream raw = new java.io.FilterInputStream(new java.security.DigestInputStream(repository.rawStorage().open(key), sha)) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                stored[0] += b < 0 ? 0 : 1;
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                stored[0] += Math.max(n, 0);
                return n;
            }
        };
        long bytes;
        try (InputStream ahead = new ReadAheadInputStream(StoredName.parse(key).compression().decompress(repository.unseal(key, raw)), 1 << 20, 4, fileName)) {
            // The extractor closes its stream at the tar's end; the rest of the file still has to pass the digest.
            bytes = new SafeTarExtractor(into, written, writer, seen).extract(io.pgbackup.core.internal.storage.NonClosing.input(counter.wrap(ahead)), fileName);
            // To the decoded end (the read-ahead thread has then read all it will), then whatever the
            // codec left unread: the digest covers the whole stored file.
            ahead.transferTo(OutputStream.nullOutputStream());
            raw.transferTo(OutputStream.nullOutputStream());
        }
        BackupManifest.BackupFile recorded = backup.manifest().files().stream().filter(f -> f.name().equals(fileName)).findFirst()
                .orElseThrow(() -> new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id() + " has no "
                        + fileName + " in its manifest"));
        String problem = StoredFileCheck.contentProblem(stored[0], StoredFileCheck.hex(sha), recorded.size(), recorded.sha256());
        if (problem != null) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + backup.id() + " is damaged: " + fileName + " "
                    + problem + "; use another backup (see 'pgbackup list', 'pgbackup verify --all')");
        }
        return bytes;
    }
}
