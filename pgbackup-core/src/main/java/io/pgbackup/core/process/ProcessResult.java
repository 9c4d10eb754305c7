package io.pgbackup.core.process;

/** How a program ended: its exit code, captured standard output (unless sent to a sink) and standard error. */
public record ProcessResult(int exitCode, String stdout, String stderr, boolean timedOut) {
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
