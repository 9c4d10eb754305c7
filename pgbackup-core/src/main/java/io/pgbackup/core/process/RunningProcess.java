package io.pgbackup.core.process;

import java.io.IOException;

/** A program started by {@link ProcessRunner#start}: wait for it, ask whether it ended, or stop it. */
public interface RunningProcess {
    /** Blocks until the program has ended and its output is drained. */
    ProcessResult await() throws IOException, InterruptedException;

    /**
     * Waits up to {@code wait} for the program to end, returning at once when it does; true once
     * it has ended (its output may still be draining).
     */
    boolean awaitEnd(java.time.Duration wait) throws InterruptedException;

    /** Stops the program (SIGTERM, then the JVM's destroy); harmless when it has ended. */
    void destroy();
}
