package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Receives a streamed base backup. Each method hands out a stream the client writes and then
 * closes (also when the backup fails, so that the sink can release what it holds; the backup
 * failed whenever {@link BaseBackupClient#run} throws). {@link #walArchive()} is called from the
 * WAL thread, concurrently with the others.
 */
public interface BaseBackupSink {
    /** A tar archive (possibly server-compressed, see {@link ArchiveStart#name()}). */
    OutputStream archive(ArchiveStart archive) throws IOException;

    /** pg_wal.tar: the WAL from the backup's start to its end, as pg_basebackup -X stream -Ft writes it. */
    OutputStream walArchive() throws IOException;

    /** backup_manifest, byte for byte as the server sent it (PostgreSQL 13 and newer). */
    OutputStream manifest() throws IOException;

    /** Bytes of archive data sent so far, and the server's estimate of the total. */
    default void progress(long doneBytes, long totalBytes) {
    }
}
