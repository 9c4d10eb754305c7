package io.pgbackup.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.util.Arrays;

/** {@code -v/--verbose}, accepted before or after the subcommand. */
final class VerboseOption {
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show debug logging and, on failure, the stack trace.")
    boolean verbose;

    /** Logging must be configured before picocli runs, so the flag is also read up front. */
    static boolean requested(String[] args) {
        return Arrays.stream(args).takeWhile(a -> !a.equals("--")).anyMatch(a -> a.equals("-v") || a.equals("--verbose"));
    }
}
