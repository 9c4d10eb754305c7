package io.pgbackup.core.verify;

/** Checks that backups and the WAL archive are intact and restorable. */
public interface Verifier {
}
