package io.pgbackup.core.storage;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The on-disk layout of {@code PG_BACKUP_DIR}, and the only type that knows it:
 *
 * <pre>
 * base/YYYYMMDD_HHMMSS/{base.tar.gz, pg_wal.tar.gz, backup_manifest, pgbackup_manifest.json}
 * base/.staging-*          backups being written; never listed
 * base/.deleting-*         backups being deleted by cleanup; never listed
 * wal_archive/*.gz         archived WAL segments, .history and .backup files
 * scripts/archive_wal.sh   archive_command;  scripts/restore_wal.sh  restore_command
 * logs/wal_archive.log     one line per archive call
 * </pre>
 */
public final class Repository {
    public static final String MANIFEST_FILE = "pgbackup_manifest.json";
    private static final Pattern BACKUP_ID = Pattern.compile("\\d{8}_\\d{6}");
    private static final String STAGING_PREFIX = ".staging-";
    private static final String DELETING_PREFIX = ".deleting-";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final Path root;

    public Repository(Path root) {
        this.root = Objects.requireNonNull(root).toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    public Path baseDir() {
        return root.resolve("base");
    }

    public Path walArchiveDir() {
        return root.resolve("wal_archive");
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

    public Path lockFile() {
        return root.resolve(".pgbackup.lock");
    }

    /** The directory of a finished backup. */
    public Path backupPath(String id) {
        if (!isBackupId(id)) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "'" + id
                    + "' is not a backup id: ids look like 20260202_020000 (see 'pgbackup list')");
        }
        return baseDir().resolve(id);
    }

    public Path manifestPath(String id) {
        return backupPath(id).resolve(MANIFEST_FILE);
    }

    /** A fresh staging directory inside {@code base/}, on the same filesystem as the final one. */
    public Path createStagingDir(String id) throws IOException {
        return Files.createTempDirectory(baseDir(), STAGING_PREFIX + id + "-",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }

    /** Staging directories left by interrupted backups. */
    public List<Path> stagingDirs() throws IOException {
        if (!Files.isDirectory(baseDir())) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(baseDir())) {
            return entries.filter(p -> p.getFileName().toString().startsWith(STAGING_PREFIX)).sorted().toList();
        }
    }

    /**
     * Where {@code cleanup} renames a backup before deleting it, so an interrupted delete never
     * leaves a half-deleted directory that looks like a complete backup.
     */
    public Path deletingPath(String id) {
        return baseDir().resolve(DELETING_PREFIX + backupPath(id).getFileName());
    }

    /** Backups whose deletion was interrupted. */
    public List<Path> deletingDirs() throws IOException {
        if (!Files.isDirectory(baseDir())) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(baseDir())) {
            return entries.filter(p -> p.getFileName().toString().startsWith(DELETING_PREFIX)).sorted().toList();
        }
    }

    public static boolean isBackupId(String id) {
        return id != null && BACKUP_ID.matcher(id).matches();
    }

    /**
     * Ids of complete backups, oldest first. A backup is complete when its directory carries an id
     * name and its manifest, which is written last, before the final rename.
     */
    public List<String> backupIds() throws IOException {
        if (!Files.isDirectory(baseDir())) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(baseDir())) {
            return entries.map(p -> p.getFileName().toString())
                    .filter(Repository::isBackupId)
                    .filter(id -> Files.isRegularFile(baseDir().resolve(id).resolve(MANIFEST_FILE)))
                    .sorted()
                    .toList();
        }
    }

    /** Whether {@code init} has created the layout. */
    public boolean isInitialized() {
        return Files.isDirectory(baseDir()) && Files.isDirectory(walArchiveDir());
    }

    /**
     * Creates the layout with owner-only permissions; existing directories are tightened, not
     * replaced. Returns the directories that did not exist before.
     */
    public List<Path> createLayout() throws IOException {
        List<Path> created = new java.util.ArrayList<>();
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

    @Override
    public String toString() {
        return root.toString();
    }
}
