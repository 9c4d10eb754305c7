package io.pgbackup.core.internal.archive;

import io.pgbackup.core.archive.WalArchiver.ArchiverRun;
import io.pgbackup.core.archive.WalArchiver.ArchiverState;
import io.pgbackup.core.archive.WalArchiver;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.sync.RemoteSyncer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;

/**
 * The archiver ({@code pgbackup archiver}): takes the spool's locks and runs the loop. A loop on one
 * thread ({@link ArchiverLoop}) reads {@code archive_status/*.ready} every 50 ms and hands each file
 * not yet acknowledged to a pool of {@code workers} threads (oldest first; history files before
 * segments, as PostgreSQL's own archiver orders them). A worker ({@link ArchiveWorker}) stores the
 * file ({@link SegmentStore}) and only then writes its acknowledgement. Failed files get an error
 * acknowledgement, which the loop withdraws after a few seconds so the file is tried again:
 * nothing is ever dropped, whatever fills up. Archived files are then queued for the offsite
 * copies ({@link OffsiteCopier}: one thread, never delaying an acknowledgement). Exits after
 * {@code idleExitSeconds} with nothing ready, nothing in flight and nothing waiting for the offsite copy.
 */
public final class AsyncArchiver implements WalArchiver {

    private final PgBackupContext context;
    private final ArchiverConfig settings;
    private final Storage target;
    private final Optional<Storage> offsiteBucket;
    private final Optional<RemoteSyncer> rsync;
    private final Path backupDir;

    /**
     * @param target        where segments are stored and acknowledged: the local repository, or the bucket in spool mode
     * @param offsiteBucket the bucket to copy each archived file to (not in spool mode)
     * @param rsync         the rsync remote to bring up to date after each batch
     */
    public AsyncArchiver(PgBackupContext context, Storage target, Optional<Storage> offsiteBucket, Optional<RemoteSyncer> rsync) {
        this.context = context;
        this.settings = context.config().archiver();
        this.target = target;
        this.offsiteBucket = offsiteBucket;
        this.rsync = rsync;
        this.backupDir = context.config().requireBackupDir();
    }

    @Override
    public Optional<ArchiverState> state() {
        return ArchiveSpool.latestState(backupDir, context.config().pgData());
    }

    @Override
    public ArchiverRun run(Path pgData) {
        Path cluster = pgData.toAbsolutePath().normalize();
        return run(cluster, new ArchiveSpool(backupDir, cluster));
    }

    @Override
    public ArchiverRun run(Path pgData, Path spoolDir) {
        return run(pgData.toAbsolutePath().normalize(), ArchiveSpool.at(spoolDir.toAbsolutePath().normalize()));
    }

    private ArchiverRun run(Path cluster, ArchiveSpool spool) {
        io.pgbackup.core.internal.storage.DirectoryGuard.requireOwnerOnly(context.repository());
        io.pgbackup.core.internal.crypto.PlainWriteGuard.refuseIfSealed(target, "archiving");
        ArchiverLiveness.Holder alive = null;
        try {
            spool.create();
            // The fcntl lock keeps a second archiver out at once; the flock one (held by a child) is
            // what archive_wal.sh and status test (see ArchiverLiveness for why there are two).
            try (FileChannel channel = FileChannel.open(spool.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = channel.tryLock()) {
                if (lock == null) {
                    return new ArchiverRun(true, 0, 0, "");
                }
                alive = ArchiverLiveness.hold(spool.aliveFile(), Duration.ofSeconds(10));
                return new ArchiverLoop(cluster, spool, alive, settings, target, context.config().compression(),
                        new ArchiverLoop.OffsiteTargets(offsiteBucket, rsync),
                        backupDir.resolve("logs").resolve("wal_archive.log")).run();
            }
        } catch (IOException e) {
            throw Repository.ioFailure("archiver cannot use " + spool.dir(), e);
        } finally {
            // Only after the fcntl lock is gone: an archiver that a script starts on seeing this
            // lock free is not turned away by the one still holding the other.
            if (alive != null) {
                alive.close();
            }
        }
    }
}
