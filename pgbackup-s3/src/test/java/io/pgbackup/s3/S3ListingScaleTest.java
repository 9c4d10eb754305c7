package io.pgbackup.s3;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.s3.testing.S3Server;
import org.jclouds.blobstore.BlobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Listing a large WAL archive in a bucket (s3proxy over HTTP, 1,000 keys a page): how long one
 * pass takes, and that the WAL archive view reads it in one pass. Segments: the system property
 * {@code pgbackup.scale.segments} (default 20,000; the README's figure is for 100,000).
 */
class S3ListingScaleTest {
    @TempDir
    Path work;

    @Test
    void oneListingOfTheWholeArchive() throws Exception {
        int segments = Integer.getInteger("pgbackup.scale.segments", 5_000);
        try (S3Server server = S3Server.start(Files.createDirectories(work.resolve("s3")));
             S3Storage bucket = server.storage("scale")) {
            BlobStore store = server.blobStore();
            long planted = System.nanoTime();
            for (int i = 0; i < segments; i++) {
                String name = String.format("%08X%08X%08X.gz", 1, i >>> 8, i & 0xFF);
                store.putBlob(S3Server.BUCKET, store.blobBuilder("scale/wal_archive/" + name).payload(new byte[] {1}).build());
            }
            long listStart = System.nanoTime();
            var listed = bucket.list(Repository.WAL_PREFIX);
            long listMillis = (System.nanoTime() - listStart) / 1_000_000;
            assertThat(listed).hasSize(segments);
            long viewStart = System.nanoTime();
            WalArchive archive = WalArchive.read(new Repository(work.resolve("empty"), bucket));
            long viewMillis = (System.nanoTime() - viewStart) / 1_000_000;
            assertThat(archive.entries()).hasSize(segments);
            System.out.printf("S3ListingScaleTest: %d segments planted in %d ms; one listing %d ms (%d pages); WalArchive.read %d ms%n",
                    segments, (listStart - planted) / 1_000_000, listMillis, (segments + 999) / 1000, viewMillis);
        }
    }
}
