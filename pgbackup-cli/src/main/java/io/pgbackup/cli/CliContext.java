package io.pgbackup.cli;

import java.io.PrintStream;
import java.util.Map;

/** What a command may touch: the environment it reads its settings from, and its two streams. */
record CliContext(Map<String, String> env, PrintStream out, PrintStream err, boolean verbose) {
}
