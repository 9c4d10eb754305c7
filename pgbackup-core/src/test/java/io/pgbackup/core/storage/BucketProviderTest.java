package io.pgbackup.core.storage;

import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Core without pgbackup-s3 (its own test class path): no AWS SDK, and a configured bucket refused
 * in one line naming the artifact to add, before any command runs.
 */
class BucketProviderTest {
    @TempDir
    Path repo;

    private PgBackupConfig config(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("PG_BACKUP_DIR", repo.toString()));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return PgBackupConfig.fromEnvironment(env);
    }

    @Test
    void coreBringsNoAwsSdk() {
        assertThatThrownBy(() -> Class.forName("software.amazon.awssdk.services.s3.S3Client"))
                .isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("io.pgbackup.s3.S3Storage")).isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void aConfiguredBucketWithoutPgbackupS3IsRefusedInOneLine() {
        PgBackupConfig config = config("PG_BACKUP_S3_BUCKET", "my-backups");
        assertThatThrownBy(() -> PgBackup.create(config))
                .isInstanceOfSatisfying(PgBackupException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessage("PG_BACKUP_S3_BUCKET is set but S3 support is not on the class path: add io.pgbackup:pgbackup-s3,"
                        + " or unset PG_BACKUP_S3_BUCKET");
    }

    @Test
    void withoutABucketOrWithOneGivenToTheBuilderNoProviderIsNeeded() {
        assertThat(PgBackup.create(config()).repositoryLocation()).isEqualTo(repo.toString());
        PgBackup withBucket = PgBackup.builder(config("PG_BACKUP_S3_BUCKET", "my-backups"))
                .bucket(new LocalStorage(repo.resolve("bucket"))).build();
        assertThat(withBucket.repositoryLocation()).isEqualTo(repo.toString());
    }
}
