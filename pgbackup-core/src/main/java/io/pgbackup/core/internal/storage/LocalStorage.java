package io.pgbackup.core.internal.storage;

import io.pgbackup.core.storage.Storage;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * A {@link Storage} in a local directory: a key is a relative path. Objects are written under a
 * hidden temporary name beside their final one, fsynced, then renamed (or, for
 * {@link WriteMode#CREATE_NEW}, hard-linked, which fails atomically when the name is taken), and
 * the directory is fsynced: a crash leaves the old state or the whole object. Files are created
 * owner-only whatever the umask. The lease is an OS lock on {@code .pgbackup.lock}, which the kernel
 * drops when its holder dies.
 */
public final class LocalStorage implements Storage {
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    static final String LOCK_FILE = ".pgbackup.lock";
    private static final int WRITE_BUFFER = 256 * 1024;

    private final Path root;

    public LocalStorage(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** The directory holding the objects. */
    public Path root() {
        return root;
    }

    /** Where the object under {@code key} is (or would be) on disk. */
    public Path pathOf(String key) {
        if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.contains("//")) {
            throw new IllegalArgumentException("not an object key: '" + key + "'");
        }
        for (String segment : key.split("/")) {
            if (segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("not an object key: '" + key + "'");
            }
        }
        return root.resolve(key);
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
        int slash = prefix.lastIndexOf('/');
        Path dir = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        List<StoredObject> found = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                String key = keyOf(d);
                // Only descend where keys can still start with the prefix.
                return key.isEmpty() || prefix.startsWith(key + "/") || (key + "/").startsWith(prefix)
                        ? FileVisitResult.CONTINUE : FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String key = keyOf(file);
                if (attrs.isRegularFile() && key.startsWith(prefix) && !key.equals(LOCK_FILE)) {
                    found.add(new StoredObject(key, attrs.size(), attrs.lastModifiedTime().toInstant()));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                // A temporary file renamed or removed while we walk is not an error.
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }
        });
        found.sort(java.util.Comparator.comparing(StoredObject::key));
        return found;
    }

    private String keyOf(Path path) {
        return root.relativize(path).toString();
    }

    @Override
    public Optional<StoredObject> stat(String key) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(pathOf(key), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? Optional.of(new StoredObject(key, a.size(), a.lastModifiedTime().toInstant()))
                    : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream open(String key) throws IOException {
        return Files.newInputStream(pathOf(key));
    }

    @Override
    public ObjectWriter create(String key, WriteMode mode) throws IOException {
        Path target = pathOf(key);
        createDirectories(target.getParent());
        Path temp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            Files.setPosixFilePermissions(temp, FILE_MODE);
        } catch (IOException | RuntimeException e) {
            channel.close();
            Files.deleteIfExists(temp);
            throw e;
        }
        return new FileWriter(channel, temp, target, mode);
    }

    private final class FileWriter implements ObjectWriter {
        private final FileChannel channel;
        private final OutputStream stream;
        private final Path temp;
        private final Path target;
        private final WriteMode mode;
        private boolean committed;

        FileWriter(FileChannel channel, Path temp, Path target, WriteMode mode) {
            this.channel = channel;
            this.temp = temp;
            this.target = target;
            this.mode = mode;
            // Closing the stream must not close the channel before commit forces it.
            this.stream = new BufferedOutputStream(io.pgbackup.core.internal.storage.NonClosing.output(Channels.newOutputStream(channel)),
                    WRITE_BUFFER);
        }

        @Override
        public OutputStream stream() {
            return stream;
        }

        @Override
        public void commit() throws IOException {
            stream.flush();
            channel.force(true);
            channel.close();
            if (mode == WriteMode.CREATE_NEW) {
                // link(2) fails if the name exists: no window in which an archived file is replaced.
                Files.createLink(target, temp);
                Files.delete(temp);
            } else {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
            fsyncDirectory(target.getParent());
            committed = true;
        }

        @Override
        public void close() throws IOException {
            if (!committed) {
                channel.close();
                deleteQuietlyPruning(temp);
            }
        }
    }

    @Override
    public boolean delete(String key) throws IOException {
        boolean existed = deleteQuietlyPruning(pathOf(key));
        if (existed) {
            fsyncDirectory(existingAncestor(pathOf(key).getParent()));
        }
        return existed;
    }

    /** Deletes many objects, syncing each directory once at the end. */
    public int deleteAll(Collection<String> keys) throws IOException {
        Set<Path> dirs = new LinkedHashSet<>();
        int deleted = 0;
        for (String key : keys) {
            if (deleteQuietlyPruning(pathOf(key))) {
                deleted++;
                dirs.add(existingAncestor(pathOf(key).getParent()));
            }
        }
        for (Path dir : dirs) {
            fsyncDirectory(existingAncestor(dir));
        }
        return deleted;
    }

    /** Removes the file, then its parent directories that became empty, up to the top-level ones (base/, wal_archive/). */
    private boolean deleteQuietlyPruning(Path file) throws IOException {
        if (!Files.deleteIfExists(file)) {
            return false;
        }
        Path dir = file.getParent();
        while (dir != null && dir.getParent() != null && !dir.getParent().equals(root) && dir.startsWith(root)
                && !dir.equals(root)) {
            try {
                Files.delete(dir);
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                break;
            }
            dir = dir.getParent();
        }
        return true;
    }

    private Path existingAncestor(Path dir) {
        Path d = dir;
        while (d != null && !Files.isDirectory(d)) {
            d = d.getParent();
        }
        return d == null ? root : d;
    }

    @Override
    public Lease acquireLease(String holder) throws IOException {
        createDirectories(root);
        Path file = root.resolve(LOCK_FILE);
        // Owner-only like every other file here, whatever the umask; one an earlier version left is tightened.
        FileChannel channel = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(FILE_MODE));
        try {
            if (!Files.getPosixFilePermissions(file).equals(FILE_MODE)) {
                Files.setPosixFilePermissions(file, FILE_MODE);
            }
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new LeaseHeldException(Files.readString(file, StandardCharsets.UTF_8).trim());
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            FileLock held = lock;
            return () -> {
                try {
                    channel.truncate(0);
                    held.release();
                } catch (IOException ignored) {
                    // closing the channel below releases the lock regardless
                } finally {
                    try {
                        channel.close();
                    } catch (IOException ignored) {
                        // nothing more to release
                    }
                }
            };
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private static void fsyncDirectory(Path dir) throws IOException {
        AtomicFiles.fsyncDirectory(dir);
    }

    /** Found by {@link Storage#local} through {@code META-INF/services}. */
    public static final class Provider implements Storage.LocalProvider {
        @Override
        public Storage local(Path root) {
            return new LocalStorage(root);
        }
    }
}
