package io.pgbackup.core.retention;

/** Decides which backups and WAL files may go, as a plan, then removes them. */
public interface RetentionPolicy {
}
