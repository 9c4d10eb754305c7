package io.pgbackup.core.internal.postgres.replication;

/** A tablespace in a base backup: its OID, its directory on the server, and the server's size estimate. */
public record TablespaceInfo(long oid, String location, long estimatedBytes) {
}
