package io.pgbackup.core.internal.storage;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.storage.BucketProvider;

import java.util.Iterator;
import java.util.ServiceLoader;

/** Finds the {@link BucketProvider} on the class path (pgbackup-s3's), or says in one line how to add one. */
public final class BucketProviders {
    private BucketProviders() {
    }

    public static BucketProvider find() {
        // The context loader first (application servers, plugins), then the one that loaded core.
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        if (context != null) {
            Iterator<BucketProvider> found = ServiceLoader.load(BucketProvider.class, context).iterator();
            if (found.hasNext()) {
                return found.next();
            }
        }
        Iterator<BucketProvider> found = ServiceLoader.load(BucketProvider.class, BucketProvider.class.getClassLoader()).iterator();
        if (found.hasNext()) {
            return found.next();
        }
        throw new PgBackupException(ErrorCode.INVALID_CONFIG, PgBackupConfig.PG_BACKUP_S3_BUCKET
                + " is set but S3 support is not on the class path: add io.pgbackup:pgbackup-s3, or unset "
                + PgBackupConfig.PG_BACKUP_S3_BUCKET);
    }
}
