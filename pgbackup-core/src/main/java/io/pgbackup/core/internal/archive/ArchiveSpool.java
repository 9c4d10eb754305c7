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
 * The archiver's local files, below {@code PG_BACKUP_DIR/spool/archiver/}: the single-instance
 * lock, the pid file archive_wal.sh reads ({@code pid} line, then the PGDATA line), the state file
 * {@code status} reads, and one acknowledgement per WAL file in {@code ack/}: {@code NAME.ok}
 * (durably archived) or {@code NAME.error} (one line: why not). archive_wal.sh deletes the
 * acknowledgement it consumed. Acknowledgements are signals, not records: losing one only makes
 * PostgreSQL ask again, and a re-archive of identical content succeeds.
 */
public final class ArchiveSpool {
    private final Path dir;

    public ArchiveSpool(Path backupDir) {
        this.dir = backupDir.resolve("spool").resolve("archiver");
    }

    public Path dir() {
        return dir;
    }

    public Path lockFile() {
        return dir.resolve("archiver.lock");
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

    /** Written under a temporary name and renamed, so the script never sees a half-written one. */
    public void acknowledge(String name) throws IOException {
        Files.deleteIfExists(errorFile(name));
        writeAtomically(okFile(name), "");
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
