package io.pgbackup.s3.testing;

import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.backup.ManifestCodec;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;
import io.pgbackup.core.storage.Storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.util.zip.GZIPOutputStream;

/** Crafted backups stored straight into a bucket (or any Storage), for tests that need one without a cluster. */
public final class BucketBackups {
    public static final long SEGMENT_SIZE = 16L * 1024 * 1024;

    private BucketBackups() {
    }

    /**
     * A manifest of backup {@code id} that ended at {@code end} after a minute: PostgreSQL 15, timeline 1,
     * segment 2 only; callers change what their case needs (LSNs, files) before {@code build()}.
     */
    public static BackupManifest.Builder manifest(String id, OffsetDateTime end) {
        return BackupManifest.builder()
                .formatVersion(1)
                .id(id)
                .label("pgbackup " + id)
                .startTime(end.minusMinutes(1))
                .endTime(end)
                .durationMillis(60_000)
                .pgbackupVersion("test")
                .postgresVersion("15.1")
                .postgresVersionNum(150001)
                .systemIdentifier("7000000000000000001")
                .timeline(1)
                .startLsn("0/2000028")
                .stopLsn("0/2000100")
                .startWalFile("000000010000000000000002")
                .stopWalFile("000000010000000000000002")
                .walSegmentSize(SEGMENT_SIZE)
                .compression("gzip")
                .databaseSizeBytes(1000)
                .checkpoint("fast");
    }

    /** Stores the backup's base.tar.gz and pg_wal.tar.gz, then its manifest, last, as a backup does. */
    public static void store(Storage storage, BackupManifest manifest, byte[] base, byte[] walTar) throws IOException {
        storage.write(Repository.backupFileKey(manifest.id(), "base.tar.gz"), base, Storage.WriteMode.REPLACE);
        storage.write(Repository.backupFileKey(manifest.id(), "pg_wal.tar.gz"), walTar, Storage.WriteMode.REPLACE);
        storage.write(Repository.manifestKey(manifest.id()), new ManifestCodec().toJson(manifest), Storage.WriteMode.REPLACE);
    }

    /** A gzipped tar holding one file. */
    public static byte[] tarGz(String name, String content) throws IOException {
        return tarGz(java.util.Map.of(name, content.getBytes(StandardCharsets.UTF_8)));
    }

    /** A gzipped tar holding {@code files} (name to content), mode 0600. */
    public static byte[] tarGz(java.util.Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(io.pgbackup.core.testing.RepositoryFixtures.tar(files));
        }
        return bytes.toByteArray();
    }

    /** The manifest entry of a stored file: its size and SHA-256. */
    public static BackupManifest.BackupFile file(String name, byte[] content) {
        MessageDigest sha = StoredFileCheck.sha256();
        sha.update(content);
        return new BackupManifest.BackupFile(name, content.length, StoredFileCheck.hex(sha));
    }
}
