package io.pgbackup.core.internal.archive;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * logs/wal_archive.log as the archiver writes it, in archive_wal.sh's line format
 * ({@link ArchiveLogFormat}); a log that cannot be written never changes an outcome.
 */
final class ArchiveLog {
    private final Path file;
    private Writer out;

    ArchiveLog(Path file) {
        this.file = file;
    }

    synchronized void line(String level, String name, String result, String detail) {
        String text = ArchiveLogFormat.line(Instant.now(), level, name, result, ArchiveLogFormat.ARCHIVER_ORIGIN, detail) + "\n";
        try {
            if (out == null) {
                out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            out.write(text);
            out.flush();
        } catch (IOException e) {
            out = null;
        }
        if (ArchiveLogFormat.goesToStderr(level)) {
            System.err.print("pgbackup archiver: " + text);
        }
    }

    synchronized void close() {
        try {
            if (out != null) {
                out.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
