package io.pgbackup.core.internal.restore;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Extracts a tar stream below a root directory (a data directory, its pg_wal, a tablespace),
 * keeping file modes, so that nothing is ever written outside it. A backup is data from disk that
 * may have been tampered with, so every entry is placed by real paths, never lexically:
 * <ul>
 * <li>absolute names and {@code ..} are refused outright;</li>
 * <li>each directory on an entry's way is created one component at a time below the root's real
 * path, and each one found must be a real directory, never a link (checked without following it,
 * and its real path checked again), so nothing is created before it is known to be inside;</li>
 * <li>files are created new ({@code O_EXCL}, no link followed), never written through a link;</li>
 * <li>links are created last, in archive order, each only if its target, followed link by link
 * through what is on disk (links made earlier included), stays inside the root at every step;
 * no entry is ever written through one;</li>
 * <li>hard links, devices, FIFOs and any other kind are refused (a backup holds none);</li>
 * <li>the root's own mode is the restore's, whatever a {@code ./} entry says.</li>
 * </ul>
 * Like GNU tar's delayed links: a regular entry can then never land behind a link of the archive.
 */
final class SafeTarExtractor {
    private static final int BUFFER = 256 * 1024;
    /** As the kernel's MAXSYMLINKS: a longer chain is a loop or an attack. */
    private static final int MAX_LINK_HOPS = 40;
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_DIR =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private final Path realRoot;
    private final Consumer<Path> fileWritten;
    /**
     * Directories (relative to the root) already found to be real directories inside it. Nothing
     * here deletes a directory or puts a link where one is, so they stay so.
     */
    private final Set<Path> checkedDirs = new HashSet<>();

    SafeTarExtractor(Path root) throws IOException {
        this(root, file -> { });
    }

    /** {@code fileWritten} hears of each regular file once it is complete and closed. */
    SafeTarExtractor(Path root, Consumer<Path> fileWritten) throws IOException {
        this(root, fileWritten, null, null);
    }

    /**
     * With {@code writer}, regular entries may land on files already there (a chain's increments,
     * a delta restore); {@code seen} collects the path of every entry (an {@code INCREMENTAL.}
     * entry under its file's name), for what the restore then removes.
     */
    SafeTarExtractor(Path root, Consumer<Path> fileWritten, InPlaceWriter writer, Set<String> seen) throws IOException {
        this.realRoot = root.toAbsolutePath().toRealPath();
        this.fileWritten = fileWritten;
        this.writer = writer;
        this.seen = seen;
    }

    private final InPlaceWriter writer;
    private final Set<String> seen;

    /** A symbolic link of the archive, created once every other entry is written. */
    private record PendingLink(List<String> path, String name, String target) {
    }

    /** Extracts every entry; returns the bytes of file content written. */
    long extract(InputStream tarStream, String archiveName) throws IOException {
        long written = 0;
        byte[] buffer = new byte[BUFFER];
        List<PendingLink> links = new ArrayList<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(tarStream, BUFFER)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                String name = entry.getName();
                refuseSpecial(entry, archiveName);
                List<String> path = components(name, archiveName);
                if (seen != null && !path.isEmpty()) {
                    seen.add(InPlaceWriter.fileNameOf(String.join("/", path)));
                }
                if (entry.isDirectory()) {
                    if (!path.isEmpty()) { // the root itself ("./") keeps the mode restore gave it
                        Files.setPosixFilePermissions(directory(path, name, archiveName), permissions(entry.getMode() | 0700));
                    }
                } else if (entry.isSymbolicLink()) {
                    if (path.isEmpty()) {
                        throw refuse(archiveName, name, "is a link in place of the restore directory itself");
                    }
                    links.add(new PendingLink(path, name, entry.getLinkName()));
                } else if (isRegular(entry)) {
                    if (path.isEmpty()) {
                        throw refuse(archiveName, name, "is a file in place of the restore directory itself");
                    }
                    written += writeFile(tar, entry, path, archiveName, buffer);
                } else {
                    throw refuse(archiveName, name, "is of a kind a backup never holds (tar type '"
                            + printable(String.valueOf((char) entry.getLinkFlag())) + "')");
                }
            }
        }
        for (PendingLink link : links) {
            createLink(link, archiveName);
        }
        return written;
    }

    private static void refuseSpecial(TarArchiveEntry entry, String archiveName) throws IOException {
        String name = entry.getName();
        if (entry.isLink()) {
            throw refuse(archiveName, name, "is a hard link (to '" + printable(entry.getLinkName())
                    + "'), which a backup never holds");
        }
        if (entry.isCharacterDevice() || entry.isBlockDevice()) {
            throw refuse(archiveName, name, "is a device, which a backup never holds");
        }
        if (entry.isFIFO()) {
            throw refuse(archiveName, name, "is a FIFO, which a backup never holds");
        }
    }

    private static boolean isRegular(TarArchiveEntry entry) {
        byte flag = entry.getLinkFlag();
        return flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM || flag == TarConstants.LF_CONTIG;
    }

    /** The entry's path below the root, component by component (empty: the root); refuses absolute names and '..'. */
    private static List<String> components(String name, String archiveName) throws IOException {
        if (name.startsWith("/")) {
            throw refuse(archiveName, name, "is an absolute path");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw refuse(archiveName, name, "climbs out with '..'");
            }
            if (part.indexOf('\0') >= 0) {
                throw refuse(archiveName, name, "is not a valid file name");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        return parts;
    }

    /**
     * The real directory {@code path} names below the root, each missing component created
     * (owner-only) inside one already checked; refuses a link or a non-directory on the way.
     */
    private Path directory(List<String> path, String name, String archiveName) throws IOException {
        Path current = realRoot;
        Path relative = null;
        for (String part : path) {
            try {
                current = current.resolve(part);
            } catch (InvalidPathException e) {
                throw refuse(archiveName, name, "is not a valid file name");
            }
            relative = relative == null ? Path.of(part) : relative.resolve(part);
            if (checkedDirs.contains(relative)) {
                continue;
            }
            BasicFileAttributes found = attributes(current);
            if (found == null) {
                try {
                    Files.createDirectory(current, OWNER_ONLY_DIR);
                } catch (FileAlreadyExistsException raced) {
                    // made meanwhile by another extractor of the same restore (base.tar and pg_wal.tar): checked below
                }
                found = attributes(current);
            }
            if (found == null || found.isSymbolicLink()) {
                throw refuse(archiveName, name, "would be written through a link at " + printable(relative.toString()));
            }
            if (!found.isDirectory()) {
                throw refuse(archiveName, name, "would be written below " + printable(relative.toString())
                        + ", which is not a directory");
            }
            Path real = current.toRealPath();
            if (!real.equals(current)) {
                throw refuse(archiveName, name, "would be written through a link to " + printable(real.toString()));
            }
            checkedDirs.add(relative);
        }
        return current;
    }

    private long writeFile(TarArchiveInputStream tar, TarArchiveEntry entry, List<String> path, String archiveName,
                           byte[] buffer) throws IOException {
        String name = entry.getName();
        Path target = directory(path.subList(0, path.size() - 1), name, archiveName).resolve(path.get(path.size() - 1));
        BasicFileAttributes existing = attributes(target);
        if (existing != null) {
            if (existing.isSymbolicLink()) {
                throw refuse(archiveName, name, "would be written through a link");
            }
            if (!existing.isRegularFile()) {
                throw refuse(archiveName, name, "is a file where the restore already has a directory or special file");
            }
        }
        if (writer != null) {
            InPlaceWriter.Written w = writer.write(tar, entry.getSize(), target.getParent(), target.getFileName().toString(),
                    existing != null, archiveName, name);
            if (w != null && !w.changed()) {
                return 0;
            }
            if (w != null) {
                Files.setPosixFilePermissions(w.file(), permissions(entry.getMode()));
                Files.setLastModifiedTime(w.file(), FileTime.from(entry.getModTime().toInstant()));
                fileWritten.accept(w.file());
                return w.bytes();
            }
        }
        if (existing != null) {
            Files.delete(target); // named twice, or there from an older backup of the chain: the later entry wins, as in tar
        }
        long written = 0;
        // CREATE_NEW is O_EXCL: never opens what is there, a link included.
        try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(target, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY_FILE))) {
            int n;
            while ((n = tar.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                written += n;
            }
        } catch (FileAlreadyExistsException e) {
            throw refuse(archiveName, name, "would be written through a link");
        }
        Files.setPosixFilePermissions(target, permissions(entry.getMode()));
        Files.setLastModifiedTime(target, FileTime.from(entry.getModTime().toInstant()));
        fileWritten.accept(target);
        return written;
    }

    private void createLink(PendingLink link, String archiveName) throws IOException {
        String name = link.name();
        List<String> path = link.path();
        Path parent = directory(path.subList(0, path.size() - 1), name, archiveName);
        Path at = parent.resolve(path.get(path.size() - 1));
        String target = link.target();
        if (target.isEmpty() || target.indexOf('\0') >= 0) {
            throw refuse(archiveName, name, "is a link without a valid target");
        }
        checkLinkTarget(parent, target, name, archiveName);
        BasicFileAttributes there = attributes(at);
        if (writer != null && there != null && there.isSymbolicLink()) {
            Files.delete(at); // from an older backup of the chain, or the copy a delta restore rewinds
        }
        if (writer == null && there != null) {
            throw refuse(archiveName, name, "is a link where the archive also has a file or directory");
        }
        try {
            Files.createSymbolicLink(at, Path.of(target));
        } catch (FileAlreadyExistsException e) {
            throw refuse(archiveName, name, "is a link where the archive also has a file or directory");
        }
    }

    /**
     * Follows {@code target} from {@code parent} as the kernel would, through what is on disk now
     * (links included, up to {@link #MAX_LINK_HOPS}), and refuses it the moment it leaves the root.
     * Only the last component may be missing: a missing one followed by {@code ..} could later
     * become a link and lead elsewhere.
     */
    private void checkLinkTarget(Path parent, String target, String name, String archiveName) throws IOException {
        String outside = "is a link to " + printable(target)
                + " outside the restore (tablespaces come as archives of their own, never as links)";
        Deque<String> todo = new ArrayDeque<>();
        push(todo, target);
        if (target.startsWith("/")) {
            throw refuse(archiveName, name, outside);
        }
        Path current = parent;
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.equals("..")) {
                if (current.equals(realRoot)) {
                    throw refuse(archiveName, name, outside);
                }
                current = current.getParent();
                continue;
            }
            Path next = current.resolve(part);
            BasicFileAttributes found = attributes(next);
            if (found == null) {
                if (!todo.isEmpty()) {
                    throw refuse(archiveName, name, "is a link to " + printable(target) + " through "
                            + printable(realRoot.relativize(next).toString()) + ", which the restore does not hold");
                }
                current = next;
            } else if (found.isSymbolicLink()) {
                if (++hops > MAX_LINK_HOPS) {
                    throw refuse(archiveName, name, "is a link in a chain of more than " + MAX_LINK_HOPS + " links");
                }
                String via = Files.readSymbolicLink(next).toString();
                if (via.startsWith("/")) {
                    throw refuse(archiveName, name, outside);
                }
                push(todo, via);
            } else if (!found.isDirectory() && !todo.isEmpty()) {
                throw refuse(archiveName, name, "is a link to " + printable(target) + " through "
                        + printable(realRoot.relativize(next).toString()) + ", which is not a directory");
            } else {
                current = next;
            }
        }
    }

    /** Puts the components of {@code path} in front of those still to follow. */
    private static void push(Deque<String> todo, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            if (!parts[i].isEmpty() && !parts[i].equals(".")) {
                todo.addFirst(parts[i]);
            }
        }
    }

    /** What is at {@code path} itself (a link is not followed), or null when nothing is. */
    private static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    static IOException refuse(String archiveName, String entry, String why) {
        return new UnsafeEntryException(archiveName + " holds an unsafe entry '" + printable(entry) + "': it " + why);
    }

    /** Names from the archive in a one-line message: control characters shown as '?'. */
    private static String printable(String s) {
        StringBuilder out = new StringBuilder(Math.min(s.length(), 300));
        s.codePoints().limit(300).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return s.length() > 300 ? out + "..." : out.toString();
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

    /** An archive entry that would escape the restore directory, or that a backup never holds. */
    static final class UnsafeEntryException extends IOException {
        private static final long serialVersionUID = 1L;

        UnsafeEntryException(String message) {
            super(message);
        }
    }
}
