package io.pgbackup.core.internal.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * This process as a pid file should name it: its pid and, where {@code /proc} exists, its start
 * time in clock ticks (field 22 of {@code /proc/PID/stat}). A pid alone cannot tell a live process
 * from another one that was given the same pid after the first was killed outright; the pair can,
 * and restore_wal.sh reads both with shell builtins only.
 */
final class ProcessIdentity {
    private ProcessIdentity() {
    }

    /** "PID START" or, without {@code /proc}, "PID"; a line. */
    static String current() {
        long pid = ProcessHandle.current().pid();
        return startTicks(Path.of("/proc/self/stat")).map(start -> pid + " " + start).orElse(String.valueOf(pid)) + "\n";
    }

    static Optional<String> startTicks(Path stat) {
        try {
            String line = Files.readString(stat, StandardCharsets.UTF_8);
            // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
            String[] rest = line.substring(line.lastIndexOf(") ") + 2).trim().split(" ");
            // rest[0] is field 3 (state), so field 22 (starttime) is rest[19].
            return rest.length > 19 && rest[19].chars().allMatch(Character::isDigit)
                    ? Optional.of(rest[19]) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
