package io.pgbackup.core.sync;

/** Copies the repository offsite with rsync over SSH. */
public interface RemoteSyncer {
}
