package io.pgbackup.core.internal.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.UUID;

/**
 * Durable file writes: write to a temporary name in the same directory, fsync, rename, fsync the
 * directory. A crash at any point leaves either the old state or the complete new file, never a
 * partial file under the final name.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes {@code content} to {@code target} durably and atomically. */
    public static void write(Path target, byte[] content) throws IOException {
        write(target, content, null);
    }

    /**
     * Writes {@code content} to {@code target} durably and atomically, with {@code permissions}
     * (not filtered by the umask) already on the file when it appears under its name: an
     * executable script is never, even briefly, a non-executable one. {@code null} keeps the
     * default mode.
     */
    public static void write(Path target, byte[] content, Set<PosixFilePermission> permissions) throws IOException {
        Path temp = temporarySibling(target);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                if (permissions != null) {
                    Files.setPosixFilePermissions(temp, permissions);
                }
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            moveDurably(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Writes a stream-produced file durably: {@code writer} fills the temporary file. */
    public static void write(Path target, IoConsumer<OutputStream> writer) throws IOException {
        Path temp = temporarySibling(target);
        try {
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW)) {
                writer.accept(out);
            }
            fsyncFile(temp);
            moveDurably(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * Creates {@code target} durably, never over an existing file (a key, a decrypted object the
     * user named): {@code writer} fills a temporary sibling that already has {@code permissions},
     * so the content never sits in a file others could open, which is then hard-linked to the
     * final name. A link, not a rename: it fails rather than replace a file made meanwhile.
     */
    public static void createNew(Path target, Set<PosixFilePermission> permissions, IoConsumer<OutputStream> writer)
            throws IOException {
        Path temp = temporarySibling(target);
        try {
            Files.createFile(temp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(permissions));
            Files.setPosixFilePermissions(temp, permissions); // the umask may have taken bits the caller wants
            try (OutputStream out = Files.newOutputStream(temp, StandardOpenOption.WRITE)) {
                writer.accept(out);
            }
            fsyncFile(temp);
            Files.createLink(target, temp);
            fsyncDirectory(target.toAbsolutePath().getParent());
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Renames {@code source} to {@code target} atomically and fsyncs the target's directory. */
    public static void moveDurably(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + source + " to " + target
                    + " atomically: they must be on the same filesystem", e);
        }
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    public static void fsyncFile(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /** Makes a directory's entries (creations, renames) durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some filesystems refuse fsync on a directory; the rename is still atomic there.
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    /** Fsyncs every regular file and directory below {@code root}, then {@code root} itself. */
    public static void fsyncTree(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile()) {
                    fsyncFile(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                fsyncDirectory(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Deletes a directory tree; missing is fine. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static Path temporarySibling(Path target) {
        return target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
    }

    /** An I/O callback. */
    @FunctionalInterface
    public interface IoConsumer<T> {
        void accept(T value) throws IOException;
    }
}
