package io.pgbackup.core.internal.verify;

import io.pgbackup.core.internal.concurrent.Futures;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.verify.Verifier;

import io.pgbackup.core.verify.VerifyReport;

import io.pgbackup.core.verify.VerifyRequest;

import io.pgbackup.core.verify.VerifyReport.VerifyCheck;

import io.pgbackup.core.verify.VerifyReport.BackupVerdict;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.backup.ManifestCodec;
import io.pgbackup.core.restore.RestorePlanner;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.progress.ProgressListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The production {@link Verifier}. Read-only except for {@code pgbackup_verified.json} in each
 * verified backup's directory. It takes no repository lock, so a nightly backup never fails
 * because a long verify is running; the restore test takes the lock only while it extracts (as
 * {@code restore} does). A cleanup that removes a backup while it is being verified makes that
 * backup's verdict fail with its files missing.
 */
public final class DefaultVerifier implements Verifier {
    private static final Logger log = LoggerFactory.getLogger(DefaultVerifier.class);
    static final String MANIFEST_CHECK = Repository.MANIFEST_FILE;

    private final PgBackupContext context;
    private final RestorePlanner restorePlanner;

    public DefaultVerifier(PgBackupContext context, RestorePlanner restorePlanner) {
        this.context = context;
        this.restorePlanner = restorePlanner;
    }

    @Override
    public VerifyReport verify(VerifyRequest request, Consumer<BackupVerdict> onVerdict) {
        return verify(request, onVerdict, ProgressListener.NONE);
    }

    @Override
    public VerifyReport verify(VerifyRequest request, Consumer<BackupVerdict> onVerdict, ProgressListener progress) {
        Repository repository = context.repository();
        repository.requireInitialized();
        // verify records its verdicts in the repository.
        io.pgbackup.core.internal.storage.DirectoryGuard.requireOwnerOnly(repository);
        List<String> ids = select(repository, request);
        ProgressCounter counter = progress == null || progress == ProgressListener.NONE ? null
                : new ProgressCounter("verify", storedTotal(repository, ids), progress);
        Instant start = Instant.now();
        List<BackupVerdict> verdicts = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        int threads = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Pools.fixed("pgbackup-verify", threads).executor();
        try {
            // One archive view and one cache for the run: with --all each WAL file is read once.
            // The chain is judged along the timeline the cluster is on: another one (a test restore's) fails no backup.
            WalChainChecker wal = new WalChainChecker(WalArchive.read(repository), pool,
                    ClusterTimeline.resolve(context, newestManifest(repository)));
            for (String id : ids) {
                BackupVerdict verdict = verifyOne(repository, id, request, wal, pool, counter);
                record(repository, verdict, warnings);
                verdicts.add(verdict);
                onVerdict.accept(verdict);
            }
        } finally {
            pool.shutdownNow();
        }
        boolean ok = verdicts.stream().allMatch(BackupVerdict::ok);
        return new VerifyReport(verdicts, ok, Duration.between(start, Instant.now()), warnings);
    }

    /**
     * The ids to verify. Directories are listed, not parsed manifests, so a backup whose
     * manifest no longer parses is verified (and fails) instead of silently skipped.
     */
    private List<String> select(Repository repository, VerifyRequest request) {
        List<String> ids = repository.backupIds();
        if (request.backupId().isPresent()) {
            String id = request.backupId().get();
            Repository.backupKey(id); // refuses a malformed id with the expected form
            if (!ids.contains(id)) {
                throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "no backup '" + id + "' in " + repository.locationOf("base")
                        + (ids.isEmpty() ? ": there are no backups yet (run 'pgbackup backup')"
                        : ": existing backups are " + String.join(", ", ids)));
            }
            return List.of(id);
        }
        if (ids.isEmpty()) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "there are no backups in " + repository.locationOf("base")
                    + " to verify: take one with 'pgbackup backup'");
        }
        return request.all() ? ids : List.of(ids.get(ids.size() - 1));
    }

    private BackupVerdict verifyOne(Repository repository, String id, VerifyRequest request, WalChainChecker wal,
                                    ExecutorService pool, ProgressCounter counter) {
        Instant start = Instant.now();
        List<VerifyCheck> checks = new ArrayList<>();
        String manifestLocation = repository.locationOf(Repository.manifestKey(id));
        BackupManifest manifest;
        try {
            manifest = readManifest(repository, id, manifestLocation);
            if (!id.equals(manifest.id())) {
                throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, "it describes backup " + manifest.id()
                        + ", not " + id + " (a directory renamed or copied over?)");
            }
            checks.add(VerifyCheck.passed(MANIFEST_CHECK, manifest.files().size() + " files, " + RestoreTester.human(manifest.storedBytes())
                    + " stored, PostgreSQL " + manifest.postgresVersion() + ", timeline " + manifest.timeline() + ", WAL "
                    + manifest.startWalFile() + ".." + manifest.stopWalFile(), BackupFilesChecker.since(start)));
        } catch (PgBackupException e) {
            String why = e.getMessage().replace(manifestLocation + " ", "");
            checks.add(VerifyCheck.failed(MANIFEST_CHECK, why, BackupFilesChecker.since(start)));
            return BackupVerdict.of(id, checks, false, BackupFilesChecker.since(start));
        }
        BackupInfo backup = new BackupInfo(id, Repository.backupKey(id), repository.locationOf(Repository.backupKey(id)), manifest);

        BackupFilesChecker files = new BackupFilesChecker(repository, backup, counter);
        if (manifest.isIncremental()) {
            checks.add(IncrementalChainCheck.check(repository, backup, files));
        }
        checks.add(files.checkPgManifest());
        // The tars are independent: read them side by side (each also decompresses on a thread of its own).
        List<Future<VerifyCheck>> stored = new ArrayList<>();
        for (BackupManifest.BackupFile f : files.storedFiles()) {
            stored.add(pool.submit(() -> files.checkStoredFile(f)));
        }
        for (int i = 0; i < stored.size(); i++) {
            checks.add(await(stored.get(i), files.storedFiles().get(i).name()));
        }
        checks.add(wal.check(manifest, files.segmentsInBackup()));
        if (request.restoreTest()) {
            checks.add(new RestoreTester(context, restorePlanner).run(backup, request));
        }
        BackupVerdict verdict = BackupVerdict.of(id, checks, request.restoreTest(), BackupFilesChecker.since(start));
        verdict.firstFailure().ifPresent(f -> log.debug("backup {} failed verification: {}", id, f));
        return verdict;
    }

    /** What verify reads of {@code ids}: their stored files' sizes as the manifests list them (unreadable ones count 0). */
    private static long storedTotal(Repository repository, List<String> ids) {
        long total = 0;
        for (String id : ids) {
            try {
                total += readManifest(repository, id, repository.locationOf(Repository.manifestKey(id))).storedBytes();
            } catch (PgBackupException e) {
                // That backup's verdict fails on its manifest and reads nothing.
            }
        }
        return total;
    }

    /** The newest backup's manifest that reads, if any. */
    private static java.util.Optional<BackupManifest> newestManifest(Repository repository) {
        List<String> ids = repository.backupIds();
        for (int i = ids.size() - 1; i >= 0; i--) {
            try {
                return java.util.Optional.of(readManifest(repository, ids.get(i), repository.locationOf(Repository.manifestKey(ids.get(i)))));
            } catch (PgBackupException e) {
                // A damaged manifest fails its own backup's verdict; an older one still tells the timeline.
            }
        }
        return java.util.Optional.empty();
    }

    static BackupManifest readManifest(Repository repository, String id, String location) {
        try {
            return new ManifestCodec().read(repository.storage().read(Repository.manifestKey(id)), location);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, location + " cannot be read: " + Repository.describe(e), e);
        }
    }

    private static VerifyCheck await(Future<VerifyCheck> future, String name) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgBackupException(ErrorCode.IO_FAILED, "interrupted while verifying " + name);
        } catch (ExecutionException e) {
            return VerifyCheck.failed(name, "cannot be checked: " + BackupFilesChecker.message(Futures.cause(e)), Duration.ZERO);
        }
    }

    /**
     * Writes the verdict to the backup's pgbackup_verified.json, keeping the last restore test when
     * this run had none. Failing to write is a warning: the verdict itself stands.
     */
    private void record(Repository repository, BackupVerdict verdict, List<String> warnings) {
        String id = verdict.backupId();
        try {
            if (repository.storage().stat(Repository.manifestKey(id)).isEmpty()) {
                warnings.add("backup " + id + " was removed while it was verified (by cleanup?)");
                return;
            }
        } catch (IOException e) {
            warnings.add("cannot check backup " + id + " still exists: " + e.getMessage());
            return;
        }
        VerificationRecords records = new VerificationRecords(repository);
        OffsetDateTime now = OffsetDateTime.now(context.clock());
        VerificationRecord.RestoreTestRecord restoreTest = verdict.restoreTest()
                .map(c -> new VerificationRecord.RestoreTestRecord(now, c.ok(), c.duration(), c.detail()))
                .orElseGet(() -> records.read(id).map(VerificationRecord::lastRestoreTest).orElse(null));
        VerificationRecord record = new VerificationRecord(VerificationRecord.FORMAT_VERSION, id, now,
                verdict.ok(), verdict.duration(), verdict.checks(), restoreTest);
        try {
            records.write(id, record);
        } catch (IOException e) {
            warnings.add("could not record the result in " + repository.locationOf(Repository.backupFileKey(id, VerificationRecord.FILE_NAME))
                    + ": " + e.getMessage());
        }
    }
}
