package io.pgbackup.core.internal.sync;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.progress.ProgressListener;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.sync.RemoteSyncer.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The offsite copy in an S3 bucket ({@code PG_BACKUP_S3_*}): the same keys as the local repository
 * ({@code wal_archive/<name><suffix>}, {@code base/<id>/<file>}), so the bucket alone is a
 * repository that {@code list}, {@code verify} and {@code restore} read.
 *
 * <p>Copies what the bucket lacks: WAL first (a backup is useless without it), then each complete
 * backup, its {@code pgbackup_manifest.json} last, so a backup in the bucket only looks complete
 * once its data is there. Every object becomes visible only when whole (multipart uploads are
 * completed at the end or aborted). Nothing is ever deleted in the bucket here; WAL already in the
 * bucket is never overwritten. The plan (what is missing) is computed from one listing of each
 * side before anything is copied; a dry run returns exactly it.
 */
public final class S3Syncer implements RemoteSyncer {
    private static final Logger log = LoggerFactory.getLogger(S3Syncer.class);
    /** Multipart uploads older than this are leftovers of crashed writers (no backup takes a day). */
    static final Duration INCOMPLETE_UPLOAD_AGE = Duration.ofDays(1);

    private final PgBackupContext context;

    public S3Syncer(PgBackupContext context) {
        this.context = context;
    }

    /** One object to copy: its key, its size, and how it is written. */
    record Copy(String key, long size, Storage.WriteMode mode) {
    }

    @Override
    public SyncResult sync(boolean dryRun) {
        return run(dryRun, false, ProgressListener.NONE);
    }

    @Override
    public SyncResult syncWal(boolean dryRun) {
        return run(dryRun, true, ProgressListener.NONE);
    }

    @Override
    public SyncResult sync(boolean dryRun, ProgressListener progress) {
        return run(dryRun, false, progress);
    }

    @Override
    public SyncResult syncWal(boolean dryRun, ProgressListener progress) {
        return run(dryRun, true, progress);
    }

    private SyncResult run(boolean dryRun, boolean walOnly, ProgressListener progress) {
        Repository local = localRepository();
        local.requireInitialized();
        // What sync copies offsite must be what this user wrote: nobody else can write here.
        io.pgbackup.core.internal.storage.DirectoryGuard.requireOwnerOnly(local);
        Storage bucket = context.requireBucket();
        Instant started = context.clock().instant();
        List<Copy> plan;
        try {
            plan = new ArrayList<>(walPlan(local, bucket));
            if (!walOnly) {
                plan.addAll(backupPlan(local, bucket, local.listBase().complete().keySet().stream().toList()));
            }
        } catch (IOException e) {
            throw failure(bucket, e);
        }
        if (!dryRun) {
            copy(local, bucket, plan, new ProgressCounter("sync", plan.stream().mapToLong(Copy::size).sum(), progress));
            if (!walOnly) {
                cleanupIncompleteUploads(bucket);
            }
        }
        return result(bucket, dryRun, plan, started);
    }

    @Override
    public SyncResult syncBackup(BackupInfo backup) {
        Repository local = localRepository();
        Storage bucket = context.requireBucket();
        Instant started = context.clock().instant();
        List<Copy> plan;
        try {
            plan = backupPlan(local, bucket, List.of(backup.id()));
        } catch (IOException e) {
            throw failure(bucket, e);
        }
        copy(local, bucket, plan, new ProgressCounter("sync", 0, ProgressListener.NONE));
        return result(bucket, false, plan, started);
    }

    /** The repository on this machine: the source of every copy, never the bucket itself. */
    private Repository localRepository() {
        Repository repository = context.repository();
        Storage bucket = context.requireBucket();
        if (repository.rawStorage() == bucket || repository.location().equals(bucket.location())) {
            throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "sync copies the repository in "
                    + repository.root() + " to " + bucket.location() + ", but the repository is the bucket itself"
                    + " (no local repository here): nothing to copy");
        }
        return repository;
    }

    private static List<Copy> walPlan(Repository local, Storage bucket) throws IOException {
        Map<String, Long> there = sizes(bucket.list(Repository.WAL_PREFIX));
        List<Copy> plan = new ArrayList<>();
        for (Storage.StoredObject o : local.rawStorage().list(Repository.WAL_PREFIX)) {
            String rest = o.key().substring(Repository.WAL_PREFIX.length());
            if (rest.startsWith(".") || rest.contains("/") && !io.pgbackup.core.internal.crypto.KeyRing.isKeysetRecord(o.key())) {
                continue; // archive calls in progress
            }
            Long size = there.get(o.key());
            if (size == null) {
                plan.add(new Copy(o.key(), o.size(), Storage.WriteMode.CREATE_NEW));
            } else if (size != o.size()) {
                // Archived WAL is never overwritten, here as in archive_wal.sh: a person has to look.
                log.warn("{} differs in size from {} ({} bytes here, {} in the bucket); left as it is",
                        o.key(), bucket.location(), o.size(), size);
            }
        }
        return plan;
    }

    /** Each backup's missing objects, data first and its manifest last; oldest backup first. */
    private static List<Copy> backupPlan(Repository local, Storage bucket, List<String> ids) throws IOException {
        Map<String, Long> there = sizes(bucket.list(Repository.BASE_PREFIX));
        List<Copy> plan = new ArrayList<>();
        for (String id : ids) {
            String prefix = Repository.backupKey(id) + "/";
            List<Copy> data = new ArrayList<>();
            Copy manifest = null;
            for (Storage.StoredObject o : local.rawStorage().list(prefix)) {
                if (o.name().startsWith(".")) {
                    continue;
                }
                Long size = there.get(o.key());
                if (size != null && size == o.size()) {
                    continue;
                }
                Copy copy = new Copy(o.key(), o.size(), Storage.WriteMode.REPLACE);
                if (o.key().equals(Repository.manifestKey(id))) {
                    manifest = copy;
                } else {
                    data.add(copy);
                }
            }
            if (manifest == null && !data.isEmpty() && !there.containsKey(Repository.manifestKey(id))) {
                // Never the data without the manifest after it: the manifest is what makes it a backup.
                manifest = local.rawStorage().stat(Repository.manifestKey(id))
                        .map(o -> new Copy(o.key(), o.size(), Storage.WriteMode.REPLACE)).orElse(null);
            }
            plan.addAll(data);
            if (manifest != null) {
                plan.add(manifest);
            }
        }
        return plan;
    }

    private static Map<String, Long> sizes(List<Storage.StoredObject> objects) {
        Map<String, Long> sizes = new HashMap<>();
        objects.forEach(o -> sizes.put(o.key(), o.size()));
        return sizes;
    }

    private void copy(Repository local, Storage bucket, List<Copy> plan, ProgressCounter counter) {
        for (Copy c : plan) {
            long before = counter.done();
            try {
                // The stored bytes as they are: a sealed object stays sealed, its keyset record goes with it.
                io.pgbackup.core.internal.crypto.Sealing.copyStored(local.rawStorage(), bucket, c.key(), c.mode(), counter::wrap);
                log.debug("copied {} ({} bytes) to {}", c.key(), c.size(), bucket.location());
            } catch (FileAlreadyExistsException e) {
                log.debug("{} reached {} meanwhile (another sync)", c.key(), bucket.location());
            } catch (NoSuchFileException e) {
                log.info("{} was removed here meanwhile (cleanup); not copied", c.key());
            } catch (IOException e) {
                throw failure(bucket, e);
            }
            // A file skipped (or shrunk since the listing) still counts as its planned size: the total is reached.
            long rest = c.size() - (counter.done() - before);
            if (rest > 0) {
                counter.add(rest);
            }
        }
    }

    /** Multipart uploads of crashed writers, where the server lists them (some, such as s3proxy, do not). */
    private void cleanupIncompleteUploads(Storage bucket) {
        try {
            int aborted = bucket.cleanupIncompleteUploads(INCOMPLETE_UPLOAD_AGE);
            if (aborted > 0) {
                log.info("aborted {} incomplete upload(s) older than a day in {}", aborted, bucket.location());
            }
        } catch (IOException e) {
            log.debug("incomplete uploads in {} not cleaned: {}", bucket.location(), e.getMessage());
        }
    }

    private SyncResult result(Storage bucket, boolean dryRun, List<Copy> plan, Instant started) {
        long bytes = plan.stream().mapToLong(Copy::size).sum();
        Duration took = Duration.between(started, context.clock().instant());
        log.info("sync to {}: {} file(s), {} bytes{}", bucket.location(), plan.size(), bytes, dryRun ? " (dry run)" : "");
        return new SyncResult(bucket.location(), dryRun, plan.stream().map(Copy::key).toList(), bytes, took);
    }

    private static PgBackupException failure(Storage bucket, IOException e) {
        return new PgBackupException(ErrorCode.IO_FAILED, "sync to " + bucket.location() + " failed: "
                + Repository.describe(e) + "; nothing incomplete is visible there, run 'pgbackup sync' again", e);
    }
}
