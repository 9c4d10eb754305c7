package io.pgbackup.core.process;

import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One external program run: {@code command} (program first), variables added to the inherited
 * environment (where secrets travel: never in {@code command}), an optional working directory and
 * timeout, an optional sink for standard output (otherwise captured), and an optional listener
 * that sees each standard-error line as it arrives (progress).
 */
public record ProcessSpec(List<String> command, Map<String, String> environment, Path workingDirectory,
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
