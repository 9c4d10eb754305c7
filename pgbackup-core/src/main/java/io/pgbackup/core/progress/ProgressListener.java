package io.pgbackup.core.progress;

/**
 * Receives how far a long operation is: bytes done of a total ({@code -1} when unknown), in a named
 * phase. Called from the copy loops, possibly from several threads, often: implementations must
 * be quick and thread-safe and decide themselves how often to show anything.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (phase, done, total) -> { };

    void update(String phase, long doneBytes, long totalBytes);
}
