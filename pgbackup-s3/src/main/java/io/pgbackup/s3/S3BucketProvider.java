package io.pgbackup.s3;

import io.pgbackup.core.storage.BucketProvider;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.storage.s3.S3Settings;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;

/** {@link S3Storage} for core's {@code PG_BACKUP_S3_*}: registered in META-INF/services, found by ServiceLoader. */
public final class S3BucketProvider implements BucketProvider {
    @Override
    public Storage open(S3Settings settings) {
        return new S3Storage(settings);
    }

    @Override
    public Storage open(S3Settings settings, String accessKeyId, String secretAccessKey) {
        return new S3Storage(settings, StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey)));
    }
}
