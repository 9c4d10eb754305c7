package io.pgbackup.core.internal.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * pgbackup's WAL prefetch directory, {@code PGDATA/pg_wal/pgbackup_prefetch} (restore and
 * restore_wal.sh create it), as fetch-ahead may use it: only that directory, never through a link
 * (it is refused if it is one), and only files of its own naming are ever deleted there, so that
 * {@code wal-fetch --ahead --into DIR} given any other directory changes nothing.
 */
final class PrefetchDirectory {
    static final String NAME = "pgbackup_prefetch";
    /** A segment as restore or the fetcher writes it, or one of their temporary files for it. */
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}(\\.tmp|\\.pgbackup-fetch\\.[0-9]+)?");
    /** The markers, and AtomicFiles' temporary files for them. */
    private static final Pattern MARKER = Pattern.compile("\\.(trusted|fetcher\\.(end|pid|lock))(\\.tmp-[0-9a-f-]+)?");

    private final Path dir;

    private PrefetchDirectory(Path dir) {
        this.dir = dir;
    }

    /**
     * The directory to prefetch into, or empty when it is gone (recovery ended: it is never
     * recreated). Refuses, changing nothing, a link or any directory that is not pgbackup's own.
     */
    static Optional<PrefetchDirectory> open(Path given) throws IOException {
        Path dir = given.toAbsolutePath();
        BasicFileAttributes found;
        try {
            found = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        String hint = ": wal-fetch --ahead only fills pgbackup's own prefetch directory, PGDATA/pg_wal/" + NAME
                + ", which restore_wal.sh passes itself";
        if (found.isSymbolicLink()) {
            throw refused(dir + " is a link, which fetch-ahead never follows" + hint);
        }
        Path parent = dir.getParent();
        if (!found.isDirectory() || dir.getFileName() == null || !dir.getFileName().toString().equals(NAME)
                || parent == null || parent.getFileName() == null || !parent.getFileName().toString().equals("pg_wal")) {
            throw refused(dir + " is not pgbackup's prefetch directory" + hint);
        }
        // By its real location: the directory itself is no link, whatever links lead to pg_wal.
        Path real = dir.toRealPath();
        if (!real.equals(parent.toRealPath().resolve(NAME))) {
            throw refused(dir + " is reached through a link to " + real + hint);
        }
        return Optional.of(new PrefetchDirectory(real));
    }

    private static PgBackupException refused(String message) {
        return new PgBackupException(ErrorCode.REFUSED, message);
    }

    Path path() {
        return dir;
    }

    Path resolve(String name) {
        return dir.resolve(name);
    }

    /** A segment file restore or the fetcher wrote here (or a temporary one of theirs). */
    static boolean isOwnSegment(String name) {
        return SEGMENT.matcher(name).matches();
    }

    /** Any file of pgbackup's naming here: segments, their temporary files, the markers. */
    static boolean isOwn(String name) {
        return isOwnSegment(name) || MARKER.matcher(name).matches();
    }

    /** A regular file here (a link is not followed, and is not one). */
    boolean holdsFile(String name) {
        return Files.isRegularFile(dir.resolve(name), LinkOption.NOFOLLOW_LINKS);
    }

    /** A marker's first line, or empty when there is none (or it is not a plain file). */
    String readMarker(String name) throws IOException {
        if (!holdsFile(name)) {
            return "";
        }
        return Files.readString(dir.resolve(name), StandardCharsets.UTF_8).strip();
    }

    /** Writes a small marker file in place, never through a link. */
    void writeMarker(String name, String content) throws IOException {
        Files.write(dir.resolve(name), content.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    }

    /** The lock file, created in place, never through a link. */
    FileChannel openLock() throws IOException {
        return FileChannel.open(dir.resolve(".fetcher.lock"), Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS));
    }

    /** Deletes the segment files of its own naming (plain files only): after a reboot they may be torn. */
    void deleteSegments() throws IOException {
        delete(true);
    }

    /**
     * Recovery is over: deletes every file of its own naming, then the directory if that left it
     * empty. Anything else someone put there stays, with the directory.
     */
    void deleteOwn() {
        try {
            delete(false);
            Files.delete(dir);
        } catch (DirectoryNotEmptyException e) {
            // someone else's files: theirs to remove
        } catch (IOException e) {
            // restore_wal.sh --end-of-recovery or the next restore clears it.
        }
    }

    private void delete(boolean segmentsOnly) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if ((segmentsOnly ? isOwnSegment(name) : isOwn(name)) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }
}
