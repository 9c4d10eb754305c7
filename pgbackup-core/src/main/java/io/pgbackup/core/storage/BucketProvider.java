package io.pgbackup.core.storage;

import io.pgbackup.core.storage.s3.S3Settings;

/**
 * Opens the S3 bucket of {@code PG_BACKUP_S3_*} as a {@link Storage}. Core holds no S3 client:
 * the {@code io.pgbackup:pgbackup-s3} artifact implements this and is found through
 * {@link java.util.ServiceLoader} when it is on the class path. An embedder without it can still
 * hand any bucket to {@code PgBackup.builder(config).bucket(...)}.
 */
public interface BucketProvider {
    /** The bucket, with credentials from the client's default chain (AWS: environment, profile, instance role). */
    Storage open(S3Settings settings);

    /** The bucket with this access key pair, held in memory only (the demo's keys, made up per run). */
    Storage open(S3Settings settings, String accessKeyId, String secretAccessKey);
}
