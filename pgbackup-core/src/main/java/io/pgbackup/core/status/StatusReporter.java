package io.pgbackup.core.status;

/** Reports the repository's and the cluster's archiving state. */
public interface StatusReporter {
}
