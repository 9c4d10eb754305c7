package io.pgbackup.core.status;

/** Reports the repository's and the cluster's archiving state. */
public interface StatusReporter {
    /** Gathers the report; problems found become the verdict and its reasons, not exceptions. */
    StatusReport report();
}
