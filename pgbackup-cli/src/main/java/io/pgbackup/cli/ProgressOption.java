package io.pgbackup.cli;

import picocli.CommandLine.Option;

import java.io.PrintStream;

/** {@code --progress}/{@code --no-progress}: a live bar (default on a terminal) or one summary line at the end. */
final class ProgressOption {
    @Option(names = "--progress", negatable = true, description = "Show a progress bar (done/total, rate, ETA) on stderr; "
            + "default: on a terminal. With --no-progress, and off a terminal, one summary line at the end instead.")
    Boolean progress;

    /** The renderer for {@code phase}: live when asked for or on a terminal, else a summary at {@link ProgressBar#finish}. */
    ProgressBar bar(String phase, PrintStream err) {
        boolean live = progress != null ? progress : System.console() != null;
        return new ProgressBar(phase, err, live, System::nanoTime);
    }
}
