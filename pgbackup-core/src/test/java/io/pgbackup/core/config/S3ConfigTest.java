package io.pgbackup.core.config;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.s3.S3Settings;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PG_BACKUP_S3_*: defaults, and each malformed value refused with one line naming its variable. */
class S3ConfigTest {
    private static PgBackupConfig config(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("PG_BACKUP_DIR", "/tmp/repo"));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return PgBackupConfig.fromEnvironment(env);
    }

    @Test
    void noBucketNoS3() {
        assertThat(config().s3()).isEmpty();
    }

    @Test
    void awsDefaultsAndAnEndpointWithPathStyle() {
        S3Settings aws = config("PG_BACKUP_S3_BUCKET", "my-backups", "PG_BACKUP_S3_PREFIX", "/db1/pg/").s3().orElseThrow();
        assertThat(aws).isEqualTo(new S3Settings("my-backups", "db1/pg", "us-east-1", Optional.empty(), false));
        S3Settings minio = config("PG_BACKUP_S3_BUCKET", "b.1", "PG_BACKUP_S3_REGION", "eu-west-1",
                "PG_BACKUP_S3_ENDPOINT", "http://127.0.0.1:9000/").s3().orElseThrow();
        assertThat(minio).isEqualTo(new S3Settings("b.1", "", "eu-west-1", Optional.of(URI.create("http://127.0.0.1:9000")), true));
        assertThat(config("PG_BACKUP_S3_BUCKET", "b12", "PG_BACKUP_S3_ENDPOINT", "https://s3.example.com",
                "PG_BACKUP_S3_PATH_STYLE", "false").s3().orElseThrow().pathStyle()).isFalse();
        assertThat(config("PG_BACKUP_S3_BUCKET", "my-backups").toString()).contains("s3=s3://my-backups");
    }

    @Test
    void malformedValuesNameTheirVariable() {
        refused("PG_BACKUP_S3_BUCKET", "PG_BACKUP_S3_BUCKET", "s3://bucket/path");
        refused("PG_BACKUP_S3_BUCKET", "PG_BACKUP_S3_BUCKET", "Upper");
        refused("PG_BACKUP_S3_BUCKET", "PG_BACKUP_S3_BUCKET", "x");
        refused("PG_BACKUP_S3_REGION", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_REGION", "EU West");
        refused("PG_BACKUP_S3_ENDPOINT", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_ENDPOINT", "minio:9000");
        refused("PG_BACKUP_S3_ENDPOINT", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_ENDPOINT", "ftp://host");
        refused("PG_BACKUP_S3_ENDPOINT", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_ENDPOINT", "http://key:secret@host");
        refused("PG_BACKUP_S3_ENDPOINT", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_ENDPOINT", "http://host/bucket");
        refused("PG_BACKUP_S3_PATH_STYLE", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_PATH_STYLE", "maybe");
        refused("PG_BACKUP_S3_PREFIX", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_PREFIX", "a/../b");
        refused("PG_BACKUP_S3_PREFIX", "PG_BACKUP_S3_BUCKET", "ok-bucket", "PG_BACKUP_S3_PREFIX", "a\nb");
        refused("PG_BACKUP_S3_ENDPOINT", "PG_BACKUP_S3_ENDPOINT", "http://host:9000");
    }

    private static void refused(String variable, String... pairs) {
        assertThatThrownBy(() -> config(pairs)).isInstanceOf(PgBackupException.class)
                .satisfies(e -> assertThat(((PgBackupException) e).code().isUsageError()).isTrue())
                .hasMessageStartingWith(variable).hasMessageNotContaining("\n");
    }
}
