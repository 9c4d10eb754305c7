package io.pgbackup.s3;

import io.pgbackup.core.internal.storage.BucketProviders;
import io.pgbackup.core.storage.BucketProvider;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.s3.testing.S3Server;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** With pgbackup-s3 on the class path, core's ServiceLoader lookup finds S3Storage behind PG_BACKUP_S3_*. */
class S3BucketProviderTest {
    @Test
    void coreFindsThisModulesProviderAndItOpensARealBucket() throws Exception {
        BucketProvider provider = BucketProviders.find();
        assertThat(provider).isInstanceOf(S3BucketProvider.class);
        try (S3Server server = S3Server.startInMemory()) {
            var keys = server.credentials().resolveCredentials();
            Storage bucket = provider.open(server.settings("repo"), keys.accessKeyId(), keys.secretAccessKey());
            try {
                assertThat(bucket).isInstanceOf(S3Storage.class);
                bucket.write("wal_archive/000000010000000000000001", "segment".getBytes(StandardCharsets.UTF_8),
                        Storage.WriteMode.CREATE_NEW);
                assertThat(bucket.read("wal_archive/000000010000000000000001")).asString(StandardCharsets.UTF_8).isEqualTo("segment");
                assertThat(bucket.location()).isEqualTo("s3://" + S3Server.BUCKET + "/repo");
            } finally {
                ((S3Storage) bucket).close();
            }
        }
    }
}
