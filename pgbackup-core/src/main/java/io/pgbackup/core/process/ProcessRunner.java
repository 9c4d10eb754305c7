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

    /**
     * Starts the program and returns at once, for work that runs beside it (compressing a file
     * while pg_basebackup is still writing it). The default runs {@link #run} on a thread of its
     * own and cannot stop it early; {@link CommonsExecProcessRunner} can.
     *
     * @throws IOException when the program cannot be started
     */
    default RunningProcess start(ProcessSpec spec) throws IOException {
        java.util.concurrent.CompletableFuture<ProcessResult> result = new java.util.concurrent.CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                result.complete(run(spec));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "pgbackup-" + spec.programName());
        thread.setDaemon(true);
        thread.start();
        return new RunningProcess() {
            @Override
            public ProcessResult await() throws IOException, InterruptedException {
                try {
                    return result.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw io.pgbackup.core.internal.concurrent.Futures.cause(e) instanceof IOException io ? io
                            : new IOException(io.pgbackup.core.internal.concurrent.Futures.cause(e));
                }
            }

            @Override
            public boolean awaitEnd(java.time.Duration wait) throws InterruptedException {
                try {
                    result.get(wait.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    return false;
                } catch (java.util.concurrent.ExecutionException e) {
                    // ended, by failing: await() reports how
                }
                return true;
            }

            @Override
            public void destroy() {
                // not supported by this default: the program runs to its end
            }
        };
    }
}
