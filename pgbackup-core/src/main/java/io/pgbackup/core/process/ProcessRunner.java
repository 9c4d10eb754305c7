package io.pgbackup.core.process;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

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
     * own and cannot stop it early; the library's own runner can.
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
                    // completed exceptionally above with run()'s own exception: its cause, not wrapped
                    throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
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

    /**
     * One external program run: {@code command} (program first), variables added to the inherited
     * environment (where secrets travel: never in {@code command}), an optional working directory and
     * timeout, an optional sink for standard output (otherwise captured), and an optional listener
     * that sees each standard-error line as it arrives (progress).
     */
    record ProcessSpec(List<String> command, Map<String, String> environment, Path workingDirectory,
                              Duration timeout, OutputStream stdoutSink, Consumer<String> stderrListener) {
        public ProcessSpec {
            command = List.copyOf(command);
            if (command.isEmpty()) {
                throw new IllegalArgumentException("empty command");
            }
            environment = Map.copyOf(environment);
        }

        public static ProcessSpec of(List<String> command) {
            return new ProcessSpec(command, Map.of(), null, null, null, null);
        }

        public static ProcessSpec of(String... command) {
            return of(List.of(command));
        }

        public ProcessSpec withEnvironment(Map<String, String> extra) {
            Map<String, String> merged = new LinkedHashMap<>(environment);
            merged.putAll(extra);
            return new ProcessSpec(command, merged, workingDirectory, timeout, stdoutSink, stderrListener);
        }

        public ProcessSpec withWorkingDirectory(Path dir) {
            return new ProcessSpec(command, environment, dir, timeout, stdoutSink, stderrListener);
        }

        public ProcessSpec withTimeout(Duration limit) {
            return new ProcessSpec(command, environment, workingDirectory, limit, stdoutSink, stderrListener);
        }

        public ProcessSpec withStdoutSink(OutputStream sink) {
            return new ProcessSpec(command, environment, workingDirectory, timeout, sink, stderrListener);
        }

        public ProcessSpec withStderrListener(Consumer<String> listener) {
            return new ProcessSpec(command, environment, workingDirectory, timeout, stdoutSink, listener);
        }

        /** The program's file name, for messages. */
        public String programName() {
            return Path.of(command.get(0)).getFileName().toString();
        }

        @Override
        public String toString() {
            // Environment values may hold a password: show only the variable names.
            return "ProcessSpec" + command + " env=" + environment.keySet();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ProcessSpec other && command.equals(other.command)
                    && environment.equals(other.environment)
                    && Objects.equals(workingDirectory, other.workingDirectory)
                    && Objects.equals(timeout, other.timeout);
        }

        @Override
        public int hashCode() {
            return Objects.hash(command, environment, workingDirectory, timeout);
        }
    }

    /** How a program ended: its exit code, captured standard output (unless sent to a sink) and standard error. */
    record ProcessResult(int exitCode, String stdout, String stderr, boolean timedOut) {
        public boolean succeeded() {
            return exitCode == 0 && !timedOut;
        }

        /** The last non-blank line of standard error: usually the program's own reason for failing. */
        public String lastErrorLine() {
            String[] lines = stderr.strip().split("\\R");
            for (int i = lines.length - 1; i >= 0; i--) {
                if (!lines[i].isBlank()) {
                    return lines[i].strip();
                }
            }
            return "";
        }
    }

    /** A program started by {@link ProcessRunner#start}: wait for it, ask whether it ended, or stop it. */
    interface RunningProcess {
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
}
