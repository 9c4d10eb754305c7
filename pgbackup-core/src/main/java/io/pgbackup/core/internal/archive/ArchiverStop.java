package io.pgbackup.core.internal.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Stops the archivers of a backup directory and keeps new ones from starting while held: {@code init}
 * turning encryption on must not leave an archiver started without the key storing plain WAL after
 * the inventory of plain objects was taken. Each spool's {@code archiver.lock} (the fcntl lock an
 * archiver takes first, see {@link AsyncArchiver}) is taken here; where an archiver holds it, that
 * archiver (by its pid file, written after it took the lock) gets SIGTERM and is waited for. An
 * archiver that a script starts meanwhile finds the lock taken and exits at once.
 */
public final class ArchiverStop implements AutoCloseable {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final List<FileChannel> held;
    private final List<Long> stopped;

    private ArchiverStop(List<FileChannel> held, List<Long> stopped) {
        this.held = held;
        this.stopped = stopped;
    }

    /** The pids of the archivers stopped. */
    public List<Long> stopped() {
        return List.copyOf(stopped);
    }

    /** Stops every archiver of {@code backupDir}'s spools and holds their locks until {@link #close()}. */
    public static ArchiverStop stopAndHold(Path backupDir) {
        List<FileChannel> held = new ArrayList<>();
        List<Long> stopped = new ArrayList<>();
        try {
            for (ArchiveSpool spool : ArchiveSpool.all(backupDir)) {
                FileChannel channel = FileChannel.open(spool.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                held.add(channel);
                if (tryLock(channel, spool) == null) {
                    long pid = stop(spool);
                    stopped.add(pid);
                    if (tryLock(channel, spool) == null) {
                        throw new PgBackupException(ErrorCode.LOCKED, "the archiver of " + spool.dir() + " still holds its lock"
                                + " after pid " + pid + " exited: stop it, then run init again");
                    }
                }
            }
            return new ArchiverStop(held, stopped);
        } catch (IOException e) {
            closeAll(held);
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot stop the archiver under " + backupDir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(held);
            throw e;
        }
    }

    private static FileLock tryLock(FileChannel channel, ArchiveSpool spool) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            throw new PgBackupException(ErrorCode.LOCKED, "an archiver of " + spool.dir() + " runs in this process: stop it first");
        }
    }

    /** SIGTERM to the archiver holding {@code spool}'s lock, then waits for it to exit; its pid. */
    private static long stop(ArchiveSpool spool) {
        Optional<Long> pid = spool.readPid().flatMap(lines -> {
            try {
                return Optional.of(Long.parseLong(lines.get(0).strip()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
        Optional<ProcessHandle> process = pid.flatMap(ProcessHandle::of);
        if (process.isEmpty()) {
            throw new PgBackupException(ErrorCode.LOCKED, "an archiver holds the lock of " + spool.dir() + " but its pid file names"
                    + " no running process: stop it (or wait for it to exit), then run init again");
        }
        process.get().destroy();
        try {
            process.get().onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new PgBackupException(ErrorCode.LOCKED, "the archiver (pid " + pid.get() + ") of " + spool.dir()
                    + " did not exit within " + WAIT.toSeconds() + " s of SIGTERM: stop it, then run init again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgBackupException(ErrorCode.LOCKED, "interrupted while waiting for the archiver (pid " + pid.get() + ") to exit");
        }
        return pid.get();
    }

    @Override
    public void close() {
        closeAll(held);
    }

    private static void closeAll(List<FileChannel> channels) {
        for (FileChannel c : channels) {
            try {
                c.close(); // releases its lock
            } catch (IOException e) {
                // closing a lock file: nothing to undo
            }
        }
    }
}
