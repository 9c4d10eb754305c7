package io.pgbackup.core.internal.storage;


import io.pgbackup.core.storage.Storage;

import io.pgbackup.core.storage.Compression;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The repository's layout, and the only type that knows it: which key holds what.
 *
 * <pre>
 * base/YYYYMMDD_HHMMSS/{base.tar.gz, pg_wal.tar.gz, backup_manifest, pgbackup_manifest.json}
 *                      a backup is complete when pgbackup_manifest.json, written last, exists
 * base/.staging-*, base/.deleting-*   leftovers of interrupted commands of earlier versions
 * wal_archive/*.gz                    archived WAL segments, .history and .backup files
 * restores/<backup>-<id>.json         restores whose replay may still read here (RestoreMarkers)
 * </pre>
 *
 * The objects live in a {@link Storage}. Beside them, in the local directory {@code PG_BACKUP_DIR},
 * are what PostgreSQL and people run and read: {@code scripts/archive_wal.sh},
 * {@code scripts/restore_wal.sh}, {@code logs/}.
 */
public final class Repository {
    public static final String MANIFEST_FILE = "pgbackup_manifest.json";
    public static final String BASE_PREFIX = "base/";
    public static final String WAL_PREFIX = "wal_archive/";
    private static final Pattern BACKUP_ID = Pattern.compile("\\d{8}_\\d{6}");
    static final String STAGING_PREFIX = ".staging-";
    static final String DELETING_PREFIX = ".deleting-";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final Path root;
    private final Storage storage;

    /** A repository whose objects are files below {@code root}. */
    public Repository(Path root) {
        this(root, new LocalStorage(root));
    }

    /** A repository with its scripts and logs in {@code root} and its objects in {@code storage}. */
    public Repository(Path root, Storage storage) {
        this.root = Objects.requireNonNull(root).toAbsolutePath().normalize();
        this.storage = Objects.requireNonNull(storage);
    }

    public Storage storage() {
        return storage;
    }

    /** The objects' stored bytes, sealed or not: for hashes of stored files, copies, and what kind of storage it is. */
    public Storage rawStorage() {
        return io.pgbackup.core.internal.crypto.SealingStorage.rawOf(storage);
    }

    /** {@code stored} (the bytes of the object under {@code key}, read from {@link #rawStorage()}) opened if sealed. */
    public InputStream unseal(String key, InputStream stored) throws IOException {
        return storage instanceof io.pgbackup.core.internal.crypto.SealingStorage s ? s.unseal(key, stored) : stored;
    }

    /** {@code PG_BACKUP_DIR}: the scripts, the logs and, for a local repository, the objects. */
    public Path root() {
        return root;
    }

    /** Where the objects are, for messages. */
    public String location() {
        return storage.location();
    }

    /** Where the object under {@code key} is, for messages. */
    public String locationOf(String key) {
        return storage.location() + "/" + key;
    }

    // ------------------------------------------------------------------ local files: scripts and logs

    /** The local directory the archive script writes WAL into (the local repository's {@code wal_archive/}). */
    public Path walArchiveDir() {
        return root.resolve("wal_archive");
    }

    public Path baseDir() {
        return root.resolve("base");
    }

    public Path scriptsDir() {
        return root.resolve("scripts");
    }

    public Path logsDir() {
        return root.resolve("logs");
    }

    public Path archiveScript() {
        return scriptsDir().resolve("archive_wal.sh");
    }

    public Path restoreScript() {
        return scriptsDir().resolve("restore_wal.sh");
    }

    public Path walArchiveLog() {
        return logsDir().resolve("wal_archive.log");
    }

    // ------------------------------------------------------------------ keys

    /** The key prefix of a backup's objects, {@code base/<id>}; refuses what is not an id. */
    public static String backupKey(String id) {
        if (!isBackupId(id)) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "'" + id
                    + "' is not a backup id: ids look like 20260202_020000 (see 'pgbackup list')");
        }
        return BASE_PREFIX + id;
    }

    /** The key of one file of a backup. */
    public static String backupFileKey(String id, String file) {
        return backupKey(id) + "/" + file;
    }

    public static String manifestKey(String id) {
        return backupFileKey(id, MANIFEST_FILE);
    }

    /** The key of an archived WAL file under its stored name ({@code 000000010000000000000001.gz}). */
    public static String walKey(String storedName) {
        return WAL_PREFIX + storedName;
    }

    public static boolean isBackupId(String id) {
        return id != null && BACKUP_ID.matcher(id).matches();
    }

    // ------------------------------------------------------------------ backups

    /** What {@code base/} holds, by the second key segment: ids, and the leftovers of interrupted commands. */
    public BaseListing listBase() {
        Map<String, List<Storage.StoredObject>> byEntry = new TreeMap<>();
        try {
            for (Storage.StoredObject o : storage.list(BASE_PREFIX)) {
                String rest = o.key().substring(BASE_PREFIX.length());
                int slash = rest.indexOf('/');
                if (slash > 0) {
                    byEntry.computeIfAbsent(rest.substring(0, slash), k -> new ArrayList<>()).add(o);
                }
            }
        } catch (IOException e) {
            throw ioFailure("cannot list " + locationOf(BASE_PREFIX), e);
        }
        Map<String, List<Storage.StoredObject>> complete = new LinkedHashMap<>();
        Map<String, List<Storage.StoredObject>> incomplete = new LinkedHashMap<>();
        Map<String, List<Storage.StoredObject>> leftovers = new LinkedHashMap<>();
        byEntry.forEach((entry, objects) -> {
            if (isBackupId(entry)) {
                boolean hasManifest = objects.stream().anyMatch(o -> o.key().equals(manifestKey(entry)));
                (hasManifest ? complete : incomplete).put(entry, objects);
            } else if (entry.startsWith(STAGING_PREFIX) || entry.startsWith(DELETING_PREFIX)) {
                leftovers.put(entry, objects);
            }
        });
        return new BaseListing(complete, incomplete, leftovers);
    }

    /**
     * {@code base/} by entry: complete backups (their manifest exists), incomplete ones (a backup
     * being written, or one whose writer died), and leftovers of earlier versions' staging and
     * deleting directories. Each maps to its objects.
     */
    public record BaseListing(Map<String, List<Storage.StoredObject>> complete,
                              Map<String, List<Storage.StoredObject>> incomplete,
                              Map<String, List<Storage.StoredObject>> leftovers) {
        /** Ids of complete backups, oldest first. */
        public List<String> ids() {
            return List.copyOf(complete.keySet());
        }

        public static boolean isStaging(String entry) {
            return entry.startsWith(STAGING_PREFIX);
        }
    }

    /** A {@code base/.staging-*} or {@code base/.deleting-*} directory an earlier version left behind. */
    public record LegacyLeftover(Path directory, boolean staging, long bytes, java.time.Instant modified) {
    }

    /** Earlier versions staged and deleted backups through hidden directories in a local {@code base/}. */
    public List<LegacyLeftover> legacyLeftovers() throws IOException {
        return LegacyLeftovers.list(baseDir());
    }

    /** Removes a leftover found by {@link #legacyLeftovers()}; false if it is gone already. */
    public boolean deleteLegacyLeftover(Path directory) throws IOException {
        return LegacyLeftovers.delete(baseDir(), directory);
    }

    /** Ids of complete backups, oldest first. */
    public List<String> backupIds() {
        return listBase().ids();
    }

    /** Whether anything is stored under {@code base/<id>/}: taken ids are never reused. */
    public boolean isIdTaken(String id) {
        try {
            return !storage.list(backupKey(id) + "/").isEmpty()
                    || Files.exists(baseDir().resolve(id));
        } catch (IOException e) {
            throw ioFailure("cannot list " + locationOf(backupKey(id)), e);
        }
    }

    /**
     * Deletes a backup so that it never looks complete on the way: the manifest first, durably,
     * then the rest. An interruption leaves an incomplete backup, which cleanup removes.
     */
    public void deleteBackup(String id, List<String> keys) throws IOException {
        storage.delete(manifestKey(id));
        deleteAll(keys.stream().filter(k -> !k.equals(manifestKey(id))).toList());
    }

    /** Deletes objects, in one batch where the storage offers one. */
    public void deleteAll(List<String> keys) throws IOException {
        storage.deleteAll(keys); // LocalStorage: one fsync per directory; S3: 1,000 keys per request
    }

    // ------------------------------------------------------------------ objects through the codec

    /** Reads a stored file decoded: its compression comes from its name ({@link StoredName}). */
    public InputStream openDecoded(String key) throws IOException {
        return StoredName.parse(key).compression().decompress(storage.open(key));
    }

    /** Writes a small object durably, replacing any previous one. */
    public void put(String key, byte[] content) throws IOException {
        storage.write(key, content, Storage.WriteMode.REPLACE);
    }

    /** Starts a stored file: the writer's stream takes raw bytes, {@code compression} encodes them. */
    public EncodedWriter createEncoded(String key, Compression compression) throws IOException {
        return createEncoded(key, compression, java.util.function.UnaryOperator.identity());
    }

    /** As {@link #createEncoded(String, Compression)}, with {@code storedTap} seeing the encoded bytes as stored. */
    public EncodedWriter createEncoded(String key, Compression compression,
                                       java.util.function.UnaryOperator<OutputStream> storedTap) throws IOException {
        if (storage instanceof io.pgbackup.core.internal.crypto.SealingStorage sealing) {
            // Compressed, then sealed; the tap sees the sealed bytes, as stored.
            Storage.ObjectWriter writer = sealing.create(key, Storage.WriteMode.REPLACE, storedTap);
            try {
                return new EncodedWriter(writer, compression.compress(NonClosing.output(writer.stream())));
            } catch (IOException | RuntimeException e) {
                writer.close();
                throw e;
            }
        }
        Storage.ObjectWriter writer = storage.create(key, Storage.WriteMode.REPLACE);
        try {
            return new EncodedWriter(writer, compression.compress(storedTap.apply(NonClosing.output(writer.stream()))));
        } catch (IOException | RuntimeException e) {
            writer.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ lease and layout

    /** Takes the repository's lease for {@code command}, or fails at once naming who holds it. */
    public Storage.Lease lease(String command, Clock clock) {
        // Every command that writes the repository takes its lease first: the place to refuse an unsafe directory.
        DirectoryGuard.requireOwnerOnly(this);
        String holder = command + ", pid " + ProcessHandle.current().pid() + ", since " + clock.instant();
        try {
            return storage.acquireLease(holder);
        } catch (Storage.LeaseHeldException e) {
            throw new PgBackupException(ErrorCode.LOCKED, "another pgbackup command holds the lock on "
                    + location() + (e.holder().isEmpty() ? "" : " (" + e.holder() + ")")
                    + ": wait for it to finish, then run this again");
        } catch (IOException e) {
            throw ioFailure("cannot lock " + location(), e);
        }
    }

    /**
     * Whether {@code init} has created the layout. A repository in object storage (a bucket) needs
     * no layout: reading it works on a machine where {@code init} never ran.
     */
    public boolean isInitialized() {
        if (rawStorage() instanceof LocalStorage) {
            return Files.isDirectory(baseDir()) && Files.isDirectory(walArchiveDir());
        }
        return true;
    }

    /**
     * Creates the local layout with owner-only permissions; existing directories are tightened,
     * not replaced. Returns the directories that did not exist before.
     */
    public List<Path> createLayout() throws IOException {
        List<Path> created = new ArrayList<>();
        for (Path dir : List.of(root, baseDir(), walArchiveDir(), scriptsDir(), logsDir())) {
            if (!Files.isDirectory(dir)) {
                created.add(dir);
            }
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
        return List.copyOf(created);
    }

    /** Fails with a clear line when {@code init} has not been run. */
    public void requireInitialized() {
        if (!isInitialized()) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG, root
                    + " is not a pgbackup repository (no base/ and wal_archive/): run 'pgbackup init' first");
        }
    }

    /** Bytes stored, and the free and total bytes of the local filesystem of {@code PG_BACKUP_DIR}; -1 where unknown. */
    public record DiskUsage(long storedBytes, long freeBytes, long totalBytes) {
    }

    public DiskUsage diskUsage() {
        return diskUsage(-1);
    }

    /**
     * As {@link #diskUsage()}, with the bytes under {@code wal_archive/} already known from the
     * command's listing of it ({@code -1}: list them here), so a bucket's WAL archive is not paged
     * through a second time. Then the rest is {@code base/} (and, locally, the scripts and logs).
     */
    public DiskUsage diskUsage(long walArchiveBytes) {
        return DiskUsages.of(root, rawStorage(), walArchiveBytes);
    }

    /** Free bytes where the objects are, when that is a local filesystem. */
    public java.util.OptionalLong usableSpace() {
        if (rawStorage() instanceof LocalStorage local) {
            try {
                return java.util.OptionalLong.of(Files.getFileStore(local.root()).getUsableSpace());
            } catch (IOException e) {
                return java.util.OptionalLong.empty();
            }
        }
        return java.util.OptionalLong.empty();
    }

    public static PgBackupException ioFailure(String what, IOException e) {
        return new PgBackupException(ErrorCode.IO_FAILED, what + ": " + describe(e), e);
    }

    /** An I/O failure as a reader wants it: which file, and why. */
    public static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file " + e.getMessage();
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied on " + e.getMessage();
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }

    @Override
    public String toString() {
        return location();
    }
}
