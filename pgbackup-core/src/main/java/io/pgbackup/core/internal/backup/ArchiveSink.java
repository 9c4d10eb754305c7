package io.pgbackup.core.internal.backup;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a {@link BackupSource} sends what the server streams: each tar (the data directory as
 * {@code base.tar}, each tablespace as {@code <oid>.tar}), the WAL as {@code pg_wal.tar}, and
 * PostgreSQL's {@code backup_manifest}. The source closes each stream when it is complete; a
 * stream closed after a failure is not kept.
 */
interface ArchiveSink {
    /** A tar as the server sends it; {@code name} ends in {@code .zst} when the server compressed it. */
    OutputStream archive(String name) throws IOException;

    /** PostgreSQL's {@code backup_manifest}, stored as sent. */
    OutputStream manifest() throws IOException;
}
