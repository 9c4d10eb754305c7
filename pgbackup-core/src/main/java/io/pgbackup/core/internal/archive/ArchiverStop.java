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
    /** How long a lock may stay held with no running process named by the pid file (see {@link #acquire}). */
    private static final Duration SETTLE = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofMillis(50);
    /** Archivers stopped per spool at most: one a script started meanwhile exits at once on the held lock. */
    private static final int MAX_STOPS = 3;

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
                acquire(channel, spool, stopped);
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

    /**
     * Takes {@code spool}'s lock, stopping the archiver that holds it. The lock can also be held for a
     * moment with no running process in the pid file: by an archiver exiting on its own (idle, or
     * told to by a script) after its pid is gone from the process table but before the kernel has
     * released its lock, or by one just started that has not written its pid yet. For those it
     * waits up to {@link #SETTLE}, instead of failing init.
     */
    private static void acquire(FileChannel channel, ArchiveSpool spool, List<Long> stopped) throws IOException {
        long settleUntil = System.nanoTime() + SETTLE.toNanos();
        Long lastStopped = null;
        int stops = 0;
        while (tryLock(channel, spool) == null) {
            Optional<ProcessHandle> holder = holder(spool);
            if (holder.isPresent() && stops < MAX_STOPS) {
                lastStopped = stop(holder.get(), spool);
                stopped.add(lastStopped);
                stops++;
                settleUntil = System.nanoTime() + SETTLE.toNanos();
                continue;
            }
            if (System.nanoTime() - settleUntil > 0) {
                throw new PgBackupException(ErrorCode.LOCKED, lastStopped != null
                        ? "the archiver of " + spool.dir() + " still holds its lock after pid " + lastStopped
                                + " exited: stop it, then run init again"
                        : "an archiver holds the lock of " + spool.dir() + " but its pid file names no running process: stop it"
                                + " (or wait for it to exit), then run init again");
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgBackupException(ErrorCode.LOCKED, "interrupted while waiting for the lock of " + spool.dir());
            }
        }
    }

    /** The running process {@code spool}'s pid file names, if any. */
    private static Optional<ProcessHandle> holder(ArchiveSpool spool) {
        return spool.readPid().flatMap(lines -> {
            try {
                return Optional.of(Long.parseLong(lines.get(0).strip()));
            } catch (NumberFormatException | IndexOutOfBoundsException e) {
                return Optional.empty();
            }
        }).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
    }

    /** SIGTERM to {@code process}, then waits for it to exit; its pid. */
    private static long stop(ProcessHandle process, ArchiveSpool spool) {
        long pid = process.pid();
        process.destroy();
        try {
            process.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new PgBackupException(ErrorCode.LOCKED, "the archiver (pid " + pid + ") of " + spool.dir()
                    + " did not exit within " + WAIT.toSeconds() + " s of SIGTERM: stop it, then run init again");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgBackupException(ErrorCode.LOCKED, "interrupted while waiting for the archiver (pid " + pid + ") to exit");
        }
        return pid;
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
