package io.pgbackup.core.internal.restore;

import io.pgbackup.core.internal.storage.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * An incremental backup the server made from WAL summaries (PostgreSQL 17+) carries
 * {@code INCREMENTAL FROM LSN/TLI} lines in its backup_label, and the server refuses to start on
 * such a label ("this is an incremental backup, not a data directory"). Once the chain is
 * reassembled the directory is a whole one: the lines go, as pg_combinebackup drops them.
 */
final class IncrementalLabel {
    private static final String PREFIX = "INCREMENTAL FROM ";

    private IncrementalLabel() {
    }

    static void strip(Path dataDir) throws IOException {
        Path label = dataDir.resolve("backup_label");
        if (!Files.isRegularFile(label, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String text = Files.readString(label, StandardCharsets.UTF_8);
        if (!text.contains(PREFIX)) {
            return;
        }
        String kept = text.lines().filter(l -> !l.startsWith(PREFIX)).collect(Collectors.joining("\n", "", "\n"));
        AtomicFiles.write(label, kept.getBytes(StandardCharsets.UTF_8));
    }
}
