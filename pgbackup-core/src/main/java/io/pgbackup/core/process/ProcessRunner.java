package io.pgbackup.core.process;

import java.io.IOException;

/**
 * The seam through which the core runs external programs (pg_basebackup, psql, rsync, ssh,
 * postgres). Tests drive the real programs through it; an embedder can wrap it to add auditing.
 */
public interface ProcessRunner {
    /**
     * Runs the program to completion and returns how it ended; a non-zero exit is a result, not an
     * exception.
     *
     * @throws IOException when the program cannot be started (missing, not executable)
     */
    ProcessResult run(ProcessSpec spec) throws IOException;
}
