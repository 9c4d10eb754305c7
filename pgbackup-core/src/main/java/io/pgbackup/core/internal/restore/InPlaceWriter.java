package io.pgbackup.core.internal.restore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Writes tar entries onto files already in the restore: an {@code INCREMENTAL.<file>} entry's
 * blocks into {@code <file>} as an older backup of the chain left it, and, for a delta restore,
 * whole files only where their bytes differ. {@link SafeTarExtractor} has checked the directory
 * (real, inside the root); the file itself is opened without following a link.
 */
final class InPlaceWriter {
    /**
     * The file an entry wrote and how many bytes it took; {@code changed} false when it already
     * matched (then neither its time nor a flush is due).
     */
    record Written(Path file, long bytes, boolean changed) {
    }

    private final boolean delta;
    /** Null: every entry is written; else only the files it does not leave (a {@link VerifiedDelta} pass). */
    private final DeltaScope scope;

    /**
     * {@code delta}: compare before writing, so a file or block that already matches is left alone
     * (a chain restore compares too: most of a newer backup's whole files and blocks are unchanged,
     * and what is not rewritten needs no flush).
     */
    InPlaceWriter(boolean delta) {
        this(delta, null);
    }

    InPlaceWriter(boolean delta, DeltaScope scope) {
        this.delta = delta;
        this.scope = scope;
    }

    /** An entry's path with a leading {@code INCREMENTAL.} taken off its last component. */
    static String fileNameOf(String path) {
        int slash = path.lastIndexOf('/');
        String last = path.substring(slash + 1);
        return last.startsWith(IncrementalFile.PREFIX) && last.length() > IncrementalFile.PREFIX.length()
                ? path.substring(0, slash + 1) + last.substring(IncrementalFile.PREFIX.length()) : path;
    }

    /**
     * Writes the entry {@code name} of {@code size} bytes below the checked directory {@code dir};
     * null when the extractor should create it afresh (a whole file outside a delta restore, or
     * one not there yet).
     */
    Written write(InputStream in, long size, Path dir, String name, boolean exists, String archiveName, String entryName)
            throws IOException {
        if (name.startsWith(IncrementalFile.PREFIX) && name.length() > IncrementalFile.PREFIX.length()) {
            String fileName = name.substring(IncrementalFile.PREFIX.length());
            Path file = dir.resolve(fileName);
            String rel = scope == null ? null : scope.relative(file);
            if (rel != null && scope.leaves(rel)) {
                return new Written(file, 0, false);
            }
            IncrementalFile header = IncrementalFile.read(in, size, archiveName + ":" + entryName);
            BasicFileAttributes found = attributes(file);
            if (found != null && found.isRegularFile() && header.blocks().length == 0 && found.size() == header.fileLength()) {
                return new Written(file, 0, false); // no block and the same length: nothing to open (most segments of an incr)
            }
            if (found == null && !header.complete() && rel != null && scope.lenient()) {
                scope.unresolved(rel); // its older blocks are in older backups only: the whole chain rewrites it
                return new Written(file, 0, false);
            }
            if (found == null && header.complete()) {
                // A relation new since the parent, every block of it in this entry (pgbackup's page-LSN path).
                Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            } else if (found == null || !found.isRegularFile()) {
                throw SafeTarExtractor.refuse(archiveName, entryName, found == null
                        ? "changes " + fileName + ", which no older backup of the chain holds"
                        : "would be written into " + fileName + ", which is not a regular file");
            }
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                long before = ch.size();
                long n = header.apply(in, ch, delta, archiveName + ":" + entryName);
                return new Written(file, n, n > 0 || ch.size() != before || found == null);
            }
        }
        Path file = dir.resolve(name);
        if (scope != null && scope.leaves(scope.relative(file))) {
            return new Written(file, 0, false);
        }
        if (!delta || !exists) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            long before = ch.size();
            long n = rewriteChanged(in, size, ch);
            return new Written(file, n, n > 0 || before != size);
        }
    }

    /** Overwrites, a block at a time, only what differs from {@code size} bytes of {@code in}; cuts the rest. */
    static long rewriteChanged(InputStream in, long size, FileChannel ch) throws IOException {
        byte[] chunk = new byte[IncrementalFile.BLOCK_SIZE];
        ByteBuffer scratch = ByteBuffer.allocate(IncrementalFile.BLOCK_SIZE);
        long at = 0;
        long written = 0;
        while (at < size) {
            int n = (int) Math.min(chunk.length, size - at);
            if (in.readNBytes(chunk, 0, n) != n) {
                throw new java.io.EOFException("the archive ends inside a file");
            }
            ByteBuffer wanted = ByteBuffer.wrap(chunk, 0, n);
            scratch.limit(n);
            if (!sameAt(ch, at, wanted, scratch)) {
                while (wanted.hasRemaining()) {
                    ch.write(wanted, at + wanted.position());
                }
                written += n;
            }
            at += n;
        }
        if (ch.size() > size) {
            ch.truncate(size);
        }
        return written;
    }

    private static boolean sameAt(FileChannel ch, long at, ByteBuffer wanted, ByteBuffer scratch) throws IOException {
        scratch.position(0);
        while (scratch.hasRemaining()) {
            if (ch.read(scratch, at + scratch.position()) < 0) {
                return false;
            }
        }
        scratch.flip();
        return scratch.equals(wanted.duplicate());
    }

    /** {@code path}'s own attributes (a link is not followed), or null when there is nothing there. */
    static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }
}
