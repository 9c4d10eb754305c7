package io.pgbackup.core.internal.archive;

import io.pgbackup.core.internal.storage.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * One cluster's archiver files, below {@code PG_BACKUP_DIR/spool/archiver/<PGDATA as a name>/}
 * (a primary and its {@code archive_mode = always} standby may share a repository on one host;
 * each gets its own archiver, and a foreign cluster is refused by system identifier): the single-instance
 * lock, the lock that tells it runs ({@link #aliveFile()}), the pid file ({@code pid} line, then the
 * PGDATA line, which archive_wal.sh checks against its own), the state file
 * {@code status} reads, and one acknowledgement per WAL file in {@code ack/}: {@code NAME.ok}
 * (durably archived) or {@code NAME.error} (one line: why not). archive_wal.sh deletes the
 * acknowledgement it consumed. Acknowledgements are signals, not records: losing one only makes
 * PostgreSQL ask again, and a re-archive of identical content succeeds.
 */
public final class ArchiveSpool {
    private final Path dir;

    public ArchiveSpool(Path backupDir, Path pgData) {
        this.dir = root(backupDir).resolve(key(pgData.toString()));
    }

    private ArchiveSpool(Path dir) {
        this.dir = dir;
    }

    /** The spool in {@code dir}, as archive_wal.sh named it. */
    public static ArchiveSpool at(Path dir) {
        return new ArchiveSpool(dir);
    }

    /** Below PG_BACKUP_DIR; archive_wal.sh gets the same, rendered ({@link #shellSpoolDir()}). */
    private static final String ROOT = "spool/archiver";
    private static final String SEPARATOR = "_";
    /** The key of PGDATA {@code /}, or of a path with no component. */
    private static final String EMPTY_KEY = "_";

    static Path root(Path backupDir) {
        return backupDir.resolve(ROOT);
    }

    /** Every cluster's spool under {@code backupDir}, the most recently updated state first. */
    public static List<ArchiveSpool> all(Path backupDir) {
        try (var dirs = Files.list(root(backupDir))) {
            return dirs.filter(Files::isDirectory).map(ArchiveSpool::new)
                    .sorted(java.util.Comparator.comparing(ArchiveSpool::stateTime).reversed()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private java.nio.file.attribute.FileTime stateTime() {
        try {
            return Files.getLastModifiedTime(stateFile());
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0);
        }
    }

    /**
     * The PGDATA path's components joined by {@code _}: what archive_wal.sh computes from {@code $PWD}
     * with shell builtins alone (no process per call). The pid file names the PGDATA exactly.
     */
    static String key(String pgData) {
        StringBuilder key = new StringBuilder();
        for (String part : pgData.split("/")) {
            if (!part.isEmpty()) {
                key.append(key.length() == 0 ? "" : SEPARATOR).append(part);
            }
        }
        return key.length() == 0 ? EMPTY_KEY : key.toString();
    }

    /**
     * {@link #key} in shell builtins, for archive_wal.sh (run in PGDATA): sets {@code SPOOL_DIR}
     * from {@code $BACKUP_DIR} and {@code $PWD}, the same directory as {@code new ArchiveSpool(backupDir, pgData)}.
     */
    static String shellSpoolDir() {
        return String.join("\n",
                "spool_key=",
                "rest=${PWD#/}",
                "while [ -n \"$rest\" ]; do",
                "    part=${rest%%/*}",
                "    [ -n \"$part\" ] && spool_key=$spool_key${spool_key:+" + SEPARATOR + "}$part",
                "    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac",
                "done",
                "SPOOL_DIR=$BACKUP_DIR/" + ROOT + "/${spool_key:-" + EMPTY_KEY + "}");
    }

    /** Where the archiver of {@code pgData} writes its pid (tests stop it through this). */
    public static Path pidFileOf(Path backupDir, Path pgData) {
        return new ArchiveSpool(backupDir, pgData.toAbsolutePath().normalize()).pidFile();
    }

    /** Where the archiver of {@code pgData} writes its acknowledgements. */
    public static Path ackDirOf(Path backupDir, Path pgData) {
        return new ArchiveSpool(backupDir, pgData.toAbsolutePath().normalize()).ackDir();
    }

    public Path dir() {
        return dir;
    }

    public Path lockFile() {
        return dir.resolve("archiver.lock");
    }

    /** The flock(2) lock the archiver holds for its lifetime: how archive_wal.sh and status tell it runs ({@link ArchiverLiveness}). */
    public Path aliveFile() {
        return dir.resolve("archiver.flock");
    }

    public Path pidFile() {
        return dir.resolve("archiver.pid");
    }

    public Path stateFile() {
        return dir.resolve("state.json");
    }

    public Path ackDir() {
        return dir.resolve("ack");
    }

    public Path okFile(String name) {
        return ackDir().resolve(name + ".ok");
    }

    public Path errorFile(String name) {
        return ackDir().resolve(name + ".error");
    }

    public void create() throws IOException {
        Files.createDirectories(ackDir());
    }

    /**
     * Written under a temporary name and renamed, so the script never sees a half-written one. It
     * names the cluster ({@code pgData}, as the pid file does): two clusters' segments share names,
     * and archive_wal.sh takes only an acknowledgement of its own cluster's segment.
     */
    public void acknowledge(String name, Path pgData) throws IOException {
        Files.deleteIfExists(errorFile(name));
        writeAtomically(okFile(name), pgData + "\n");
    }

    public void reportError(String name, String message) throws IOException {
        writeAtomically(errorFile(name), message.replaceAll("[\\r\\n]+", " ") + "\n");
    }

    public void writePid(long pid, Path pgData) throws IOException {
        writeAtomically(pidFile(), pid + "\n" + pgData + "\n");
    }

    /** The pid and PGDATA of the archiver that wrote the pid file, if any. */
    public Optional<List<String>> readPid() {
        try {
            List<String> lines = Files.readAllLines(pidFile(), StandardCharsets.UTF_8);
            return lines.size() >= 2 ? Optional.of(lines) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * What the archiver of {@code pgData} (when given and it ever ran), else the one that reported
     * last, says of itself; {@code running} corrected by whether it still holds its lock, the test
     * archive_wal.sh makes ({@link ArchiverLiveness}), never by whether some process has its pid.
     */
    public static Optional<io.pgbackup.core.archive.WalArchiver.ArchiverState> latestState(Path backupDir, Optional<Path> pgData) {
        Optional<ArchiveSpool> spool = pgData.map(d -> new ArchiveSpool(backupDir, d.toAbsolutePath().normalize()))
                .filter(s -> Files.exists(s.stateFile()))
                .or(() -> all(backupDir).stream().findFirst());
        return spool.flatMap(ArchiveSpool::state);
    }

    private Optional<io.pgbackup.core.archive.WalArchiver.ArchiverState> state() {
        return readState().flatMap(bytes -> {
            try {
                var s = io.pgbackup.core.internal.storage.RepositoryJson.newMapper().readValue(bytes, io.pgbackup.core.archive.WalArchiver.ArchiverState.class);
                boolean alive = s.running() && ArchiverLiveness.isRunning(aliveFile(), s.pid());
                return Optional.of(alive == s.running() ? s : s.notRunning());
            } catch (IOException e) {
                return Optional.empty();
            }
        });
    }

    public void writeState(byte[] json) throws IOException {
        AtomicFiles.write(stateFile(), json);
    }

    public Optional<byte[]> readState() {
        try {
            return Optional.of(Files.readAllBytes(stateFile()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void writeAtomically(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
