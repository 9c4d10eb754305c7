package io.pgbackup.core.internal.sync;

import io.pgbackup.core.sync.RemoteSyncer;

import io.pgbackup.core.sync.RemoteSyncer.SyncResult;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.archive.ArchiveScripts;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.progress.ProgressListener;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.config.RemoteConfig;
import io.pgbackup.core.process.ProcessRunner.ProcessResult;
import io.pgbackup.core.process.ProcessRunner.ProcessSpec;
import io.pgbackup.core.internal.storage.Repository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The production {@link RemoteSyncer}: {@code rsync -a} from the repository root to
 * {@code user@host:REMOTE_DIR/} over {@link SshCommand}, in passes selected by filter rules:
 * <ol>
 *   <li>{@code wal_archive/} (WAL first: a backup on the remote is useless without it);</li>
 *   <li>{@code base/} without the {@code pgbackup_manifest.json} files;</li>
 *   <li>the manifests. A backup only counts as complete when its manifest is there, so a remote
 *       backup never looks complete before its data is.</li>
 * </ol>
 * rsync writes each file under a hidden temporary name and renames it when complete, keeping an
 * interrupted file in {@code .rsync-partial/} to resume from; the remote never shows a partial
 * file under its final name. Hidden local entries are excluded: the lock, {@code .staging-*},
 * {@code .deleting-*}, temporary files. Nothing is ever deleted on the remote.
 */
public final class RsyncRemoteSyncer implements RemoteSyncer {
    private static final Logger log = LoggerFactory.getLogger(RsyncRemoteSyncer.class);
    /** rsync's I/O timeout: a remote that stops answering mid-transfer fails instead of hanging. */
    static final int IO_TIMEOUT_SECONDS = 60;
    private static final String FILE_LINE = "pgbackup-file ";
    /** rsync: "some files vanished before they could be transferred" (cleanup ran meanwhile): not a failure. */
    private static final int RSYNC_VANISHED = 24;

    private final PgBackupContext context;

    public RsyncRemoteSyncer(PgBackupContext context) {
        this.context = context;
    }

    // wal_archive/keys/ holds the data keysets of sealed WAL (issue 17): copied with the segments.
    private static final List<String> WAL_FILTERS = List.of("--include=/wal_archive/", "--include=/wal_archive/keys/",
            "--include=/wal_archive/keys/*", "--include=/wal_archive/*", "--exclude=*");

    @Override
    public SyncResult sync(boolean dryRun) {
        return sync(dryRun, ProgressListener.NONE);
    }

    @Override
    public SyncResult sync(boolean dryRun, ProgressListener progress) {
        // WAL first, then backup data, manifests last: a backup looks complete on the remote only once it is.
        return copy(dryRun, List.of(WAL_FILTERS,
                List.of("--exclude=" + Repository.MANIFEST_FILE, "--include=/base/", "--include=/base/*/",
                        "--include=/base/*/**", "--exclude=*"),
                List.of("--include=/base/", "--include=/base/*/", "--include=/base/*/" + Repository.MANIFEST_FILE,
                        "--exclude=*")), progress);
    }

    @Override
    public SyncResult syncWal(boolean dryRun) {
        return syncWal(dryRun, ProgressListener.NONE);
    }

    @Override
    public SyncResult syncWal(boolean dryRun, ProgressListener progress) {
        return copy(dryRun, List.of(WAL_FILTERS), progress);
    }

    /** One rsync per filter set, in order; progress after each (rsync tells no total up front). */
    private SyncResult copy(boolean dryRun, List<List<String>> filterSets, ProgressListener progress) {
        RemoteConfig remote = requireRemote();
        Repository repository = context.repository();
        repository.requireInitialized();
        // What sync copies offsite must be what this user wrote: nobody else can write here.
        io.pgbackup.core.internal.storage.DirectoryGuard.requireOwnerOnly(repository);
        Instant started = context.clock().instant();
        if (!dryRun) {
            ensureRemoteDir(remote);
        }
        List<String> files = new ArrayList<>();
        long bytes = 0;
        for (List<String> filters : filterSets) {
            bytes += rsync(remote, repository, filters, dryRun, files);
            if (!dryRun) {
                progress.update("sync", bytes, -1);
            }
        }
        Duration took = Duration.between(started, context.clock().instant());
        log.info("sync to {}: {} file(s), {} bytes{}", remote.rsyncTarget(), files.size(), bytes, dryRun ? " (dry run)" : "");
        return new SyncResult(remote.rsyncTarget(), dryRun, files, bytes, took);
    }

    @Override
    public SyncResult syncBackup(BackupInfo backup) {
        RemoteConfig remote = requireRemote();
        Repository repository = context.repository();
        Instant started = context.clock().instant();
        ensureRemoteDir(remote);
        String dir = "/base/" + backup.id() + "/";
        List<String> files = new ArrayList<>();
        long bytes = rsync(remote, repository, List.of("--exclude=" + Repository.MANIFEST_FILE, "--include=/base/",
                "--include=" + dir, "--include=" + dir + "**", "--exclude=*"), false, files);
        bytes += rsync(remote, repository, List.of("--include=/base/", "--include=" + dir,
                "--include=" + dir + Repository.MANIFEST_FILE, "--exclude=*"), false, files);
        return new SyncResult(remote.rsyncTarget(), false, files, bytes, Duration.between(started, context.clock().instant()));
    }

    private RemoteConfig requireRemote() {
        return context.config().remote().orElseThrow(() -> new PgBackupException(ErrorCode.INVALID_CONFIG,
                PgBackupConfig.PG_BACKUP_REMOTE_HOST + " is not set: set it to the backup host (and optionally "
                        + PgBackupConfig.PG_BACKUP_REMOTE_USER + ", " + PgBackupConfig.PG_BACKUP_REMOTE_DIR + ", "
                        + PgBackupConfig.PG_BACKUP_REMOTE_PORT + ") to enable remote sync, or "
                        + PgBackupConfig.PG_BACKUP_S3_BUCKET + " for a copy in S3"));
    }

    /** {@code mkdir -p REMOTE_DIR} (owner-only), which also proves the connection and the key. */
    private void ensureRemoteDir(RemoteConfig remote) {
        List<String> command = new ArrayList<>(SshCommand.words(remote));
        command.add(remote.login());
        command.add("umask 077 && mkdir -p -- " + ArchiveScripts.shellQuote(remote.dir()));
        ProcessResult result = run(remote, ProcessSpec.of(command)
                .withTimeout(Duration.ofSeconds(SshCommand.CONNECT_TIMEOUT_SECONDS * 3L)));
        if (!result.succeeded()) {
            throw failure(remote, result, "ssh");
        }
    }

    /** One rsync pass from the repository root; appends the files it copied and returns their total size. */
    private long rsync(RemoteConfig remote, Repository repository, List<String> filters, boolean dryRun, List<String> files) {
        List<String> command = new ArrayList<>(List.of("rsync", "--archive", "--partial-dir=.rsync-partial",
                "--timeout=" + IO_TIMEOUT_SECONDS, "--out-format=" + FILE_LINE + "%l %n", "-e", SshCommand.forRsync(remote)));
        if (dryRun) {
            command.add("--dry-run");
        }
        command.add("--exclude=.*");
        command.addAll(filters);
        command.add(repository.root() + "/");
        command.add(remote.rsyncTarget() + "/");
        ProcessResult result = run(remote, ProcessSpec.of(command));
        if (!result.succeeded() && result.exitCode() != RSYNC_VANISHED) {
            throw failure(remote, result, "rsync");
        }
        long bytes = 0;
        for (String line : result.stdout().split("\n")) {
            if (!line.startsWith(FILE_LINE)) {
                continue;
            }
            String[] parts = line.substring(FILE_LINE.length()).split(" ", 2);
            if (parts.length < 2 || parts[1].endsWith("/")) {
                continue; // directories
            }
            files.add(parts[1]);
            bytes += Long.parseLong(parts[0].replaceAll("[^0-9]", ""));
        }
        return bytes;
    }

    private ProcessResult run(RemoteConfig remote, ProcessSpec spec) {
        try {
            log.debug("running {}", spec);
            return context.processRunner().run(spec);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "sync to " + remote.login() + " failed: "
                    + spec.programName() + " could not be run (" + e.getMessage()
                    + "): install rsync and openssh-client (Debian: apt-get install rsync openssh-client)", e);
        }
    }

    /** One line: the host, the cause in words, and what to do. */
    static PgBackupException failure(RemoteConfig remote, ProcessResult result, String program) {
        String err = result.stderr();
        String lower = err.toLowerCase(Locale.ROOT);
        String where = remote.login() + " port " + remote.port();
        String cause;
        if (result.timedOut() || lower.contains("timed out")) {
            cause = "connection to " + where + " timed out: check the host, the port and any firewall";
        } else if (lower.contains("connection refused")) {
            cause = "connection to " + where + " refused: is sshd running there and PG_BACKUP_REMOTE_PORT right?";
        } else if (lower.contains("could not resolve hostname") || lower.contains("name or service not known")) {
            cause = "host " + remote.host() + " is unknown: check PG_BACKUP_REMOTE_HOST";
        } else if (lower.contains("host key verification failed")) {
            cause = "the host key of " + remote.host() + " is not trusted: connect once with 'ssh -p " + remote.port() + " "
                    + remote.login() + "' to check and accept it";
        } else if (lower.contains("permission denied (")) {
            cause = "SSH authentication to " + where + " refused: install a key with 'ssh-copy-id -p " + remote.port() + " "
                    + remote.login() + "' (pgbackup never prompts for a password)";
        } else if (lower.contains("no space left") || lower.contains("disk quota exceeded")) {
            cause = "the remote disk is full at " + remote.dir() + " on " + remote.host() + ": free space there";
        } else if (lower.contains("rsync: command not found") || lower.contains("rsync: not found")) {
            cause = "rsync is not installed on " + remote.host() + ": install it there";
        } else {
            String last = result.lastErrorLine();
            cause = program + " to " + where + " exited " + result.exitCode()
                    + (last.isEmpty() ? "" : ": " + last.replaceAll("[\\r\\n]+", " "));
        }
        return new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "sync to " + remote.rsyncTarget() + " failed: " + cause);
    }
}
