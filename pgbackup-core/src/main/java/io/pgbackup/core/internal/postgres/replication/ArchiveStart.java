package io.pgbackup.core.internal.postgres.replication;

/**
 * One archive of a base backup, as pg_basebackup -Ft names it: {@code base.tar} for the data
 * directory ({@code tablespaceOid} 0, empty {@code location}), {@code <oid>.tar} for a
 * tablespace at {@code location} on the server; plus the compression suffix
 * (e.g. {@code .zst}) when the server compressed it.
 */
public record ArchiveStart(String name, long tablespaceOid, String location) {
    public boolean isBase() {
        return tablespaceOid == 0;
    }
}
