package io.pgbackup.core.internal.sync;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.progress.ProgressListener;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.sync.RemoteSyncer.SyncResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Every configured offsite copy in turn: the S3 bucket, then the rsync remote. Each runs even when
 * the one before failed; the failures are then reported together. With one target this is that
 * target; with none, the rsync syncer's own refusal names the settings.
 */
public final class OffsiteSyncer implements RemoteSyncer {
    private final List<RemoteSyncer> targets;
    private final RemoteSyncer whenNone;

    public OffsiteSyncer(List<RemoteSyncer> targets, RemoteSyncer whenNone) {
        this.targets = List.copyOf(targets);
        this.whenNone = whenNone;
    }

    @Override
    public SyncResult sync(boolean dryRun) {
        return each(s -> s.sync(dryRun));
    }

    @Override
    public SyncResult syncWal(boolean dryRun) {
        return each(s -> s.syncWal(dryRun));
    }

    @Override
    public SyncResult sync(boolean dryRun, ProgressListener progress) {
        Offset offset = new Offset(progress);
        return each(s -> offset.next(s.sync(dryRun, offset)));
    }

    @Override
    public SyncResult syncWal(boolean dryRun, ProgressListener progress) {
        Offset offset = new Offset(progress);
        return each(s -> offset.next(s.syncWal(dryRun, offset)));
    }

    /** One running total over the targets: each one's bytes continue where the one before ended. */
    private static final class Offset implements ProgressListener {
        private final ProgressListener progress;
        private long base;

        Offset(ProgressListener progress) {
            this.progress = progress == null ? ProgressListener.NONE : progress;
        }

        @Override
        public void update(String phase, long doneBytes, long totalBytes) {
            progress.update(phase, base + doneBytes, totalBytes < 0 ? -1 : base + totalBytes);
        }

        SyncResult next(SyncResult done) {
            base += done.dryRun() ? 0 : done.bytesTransferred();
            return done;
        }
    }

    @Override
    public SyncResult syncBackup(BackupInfo backup) {
        return each(s -> s.syncBackup(backup));
    }

    private SyncResult each(Function<RemoteSyncer, SyncResult> call) {
        if (targets.isEmpty()) {
            return call.apply(whenNone);
        }
        if (targets.size() == 1) {
            return call.apply(targets.get(0));
        }
        List<SyncResult> done = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        PgBackupException first = null;
        for (RemoteSyncer target : targets) {
            try {
                done.add(call.apply(target));
            } catch (PgBackupException e) {
                failures.add(e.getMessage());
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            String copied = done.stream().map(r -> "; " + r.target() + " done (" + r.filesTransferred() + " file(s))")
                    .reduce("", String::concat);
            throw new PgBackupException(first.code() == null ? ErrorCode.IO_FAILED : first.code(),
                    String.join("; ", failures) + copied, first);
        }
        List<String> files = new ArrayList<>();
        long bytes = 0;
        Duration took = Duration.ZERO;
        for (SyncResult r : done) {
            r.files().forEach(f -> files.add(r.target() + ": " + f));
            bytes += r.bytesTransferred();
            took = took.plus(r.duration());
        }
        return new SyncResult(String.join(" and ", done.stream().map(SyncResult::target).toList()),
                done.get(0).dryRun(), files, bytes, took);
    }
}
