package io.pgbackup.core.internal.restore;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Extracts a tar stream below a root directory, keeping file modes, and refuses any entry that
 * would land outside it: absolute names, {@code ..} components, links pointing out, and files
 * written through a link. A backup is data from disk that may have been tampered with; it must
 * never be able to write outside the directory being restored.
 */
final class SafeTarExtractor {
    private static final int BUFFER = 256 * 1024;

    private final Path root;
    private final Path realRoot;
    private final java.util.function.Consumer<Path> fileWritten;

    SafeTarExtractor(Path root) throws IOException {
        this(root, file -> { });
    }

    /** {@code fileWritten} hears of each regular file once it is complete and closed. */
    SafeTarExtractor(Path root, java.util.function.Consumer<Path> fileWritten) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.realRoot = this.root.toRealPath();
        this.fileWritten = fileWritten;
    }

    /** Extracts every entry; returns the bytes of file content written. */
    long extract(InputStream tarStream, String archiveName) throws IOException {
        long written = 0;
        byte[] buffer = new byte[BUFFER];
        try (TarArchiveInputStream tar = new TarArchiveInputStream(tarStream, BUFFER)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path target = resolve(entry.getName(), archiveName);
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                    checkInside(target.toRealPath(), entry.getName(), archiveName);
                    Files.setPosixFilePermissions(target, permissions(entry.getMode() | 0700));
                } else if (entry.isSymbolicLink()) {
                    Path link = Path.of(entry.getLinkName());
                    Path pointsTo = (link.isAbsolute() ? link : target.getParent().resolve(link)).normalize();
                    if (!pointsTo.startsWith(root)) {
                        throw refuse(archiveName, entry.getName(), "is a link to " + entry.getLinkName()
                                + " outside the restore (tablespaces come as archives of their own, never as links)");
                    }
                    createParent(target, entry.getName(), archiveName);
                    Files.createSymbolicLink(target, link);
                } else if (entry.isFile()) {
                    createParent(target, entry.getName(), archiveName);
                    if (Files.isSymbolicLink(target)) {
                        throw refuse(archiveName, entry.getName(), "would be written through a link");
                    }
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE,
                            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        int n;
                        while ((n = tar.read(buffer)) > 0) {
                            out.write(buffer, 0, n);
                            written += n;
                        }
                    }
                    Files.setPosixFilePermissions(target, permissions(entry.getMode()));
                    Files.setLastModifiedTime(target, FileTime.from(entry.getModTime().toInstant()));
                    fileWritten.accept(target);
                } else {
                    throw refuse(archiveName, entry.getName(), "is not a file, directory or link inside the restore");
                }
            }
        }
        return written;
    }

    private Path resolve(String name, String archiveName) throws IOException {
        Path relative = Path.of(name);
        if (relative.isAbsolute()) {
            throw refuse(archiveName, name, "is an absolute path");
        }
        for (Path part : relative) {
            if (part.toString().equals("..")) {
                throw refuse(archiveName, name, "climbs out with '..'");
            }
        }
        Path target = root.resolve(relative).normalize();
        if (!target.startsWith(root)) {
            throw refuse(archiveName, name, "lands outside " + root);
        }
        return target;
    }

    /** Creates the parent directories, and checks no link among them leads out of the restore. */
    private void createParent(Path target, String name, String archiveName) throws IOException {
        Path parent = target.getParent();
        Files.createDirectories(parent);
        checkInside(parent.toRealPath(), name, archiveName);
    }

    private void checkInside(Path real, String name, String archiveName) throws IOException {
        if (!real.startsWith(realRoot)) {
            throw refuse(archiveName, name, "would be written through a link to " + real);
        }
    }

    private static IOException refuse(String archiveName, String entry, String why) {
        return new UnsafeEntryException(archiveName + " holds an unsafe entry '" + entry + "': it " + why);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                p.add(bits[i]);
            }
        }
        return p;
    }

    /** An archive entry that would escape the restore directory. */
    static final class UnsafeEntryException extends IOException {
        private static final long serialVersionUID = 1L;

        UnsafeEntryException(String message) {
            super(message);
        }
    }
}
