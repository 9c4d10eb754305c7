package io.pgbackup.core.storage;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;

/**
 * Keeps two mutating commands (backup, cleanup, restore) off one repository at once. It is an OS
 * advisory lock on {@code .pgbackup.lock}: the kernel releases it when the holder dies, so a lock
 * left by a killed process never blocks, and the file's text only says who holds it.
 */
public final class RepositoryLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private RepositoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock for {@code command}, or fails at once with who holds it; {@code clock} stamps the holder. */
    public static RepositoryLock acquire(Repository repository, String command, Clock clock) {
        Path file = repository.lockFile();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
                channel.close();
                throw new PgBackupException(ErrorCode.LOCKED, "another pgbackup command holds the lock on "
                        + repository.root() + (holder.isEmpty() ? "" : " (" + holder + ")")
                        + ": wait for it to finish, then run this again");
            }
            String holder = command + ", pid " + ProcessHandle.current().pid() + ", since " + clock.instant();
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new RepositoryLock(channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot lock " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            channel.truncate(0);
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel below releases the lock regardless.
        } finally {
            closeQuietly(channel);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }
}
