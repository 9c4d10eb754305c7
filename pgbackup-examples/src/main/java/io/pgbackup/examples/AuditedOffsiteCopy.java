package io.pgbackup.examples;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.sync.RemoteSyncer;
import io.pgbackup.core.sync.RemoteSyncer.SyncResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Replacing one of the library's services: a {@link RemoteSyncer} decorator that writes an audit
 * line for every offsite copy, successful or not, and keeps them for the application to show.
 * Installed with {@code PgBackup.builder(config).remoteSyncer(AuditedOffsiteCopy::new)}; the
 * library's own services then reach it through the interface, so the copy made right after each
 * {@code backup} is audited too.
 */
public final class AuditedOffsiteCopy implements RemoteSyncer {
    private static final Logger log = LoggerFactory.getLogger(AuditedOffsiteCopy.class);

    private final RemoteSyncer delegate;
    private final List<String> audit = Collections.synchronizedList(new ArrayList<>());

    public AuditedOffsiteCopy(RemoteSyncer delegate) {
        this.delegate = delegate;
    }

    @Override
    public SyncResult sync(boolean dryRun) {
        return audited(dryRun ? "sync --dry-run" : "sync", () -> delegate.sync(dryRun));
    }

    @Override
    public SyncResult syncBackup(BackupInfo backup) {
        return audited("copy of backup " + backup.id(), () -> delegate.syncBackup(backup));
    }

    /** The audit lines so far, oldest first. */
    public List<String> audit() {
        return List.copyOf(audit);
    }

    private SyncResult audited(String what, java.util.function.Supplier<SyncResult> copy) {
        try {
            SyncResult result = copy.get();
            record(what + ": " + result.filesTransferred() + " files, " + result.bytesTransferred() + " bytes to " + result.target());
            return result;
        } catch (RuntimeException e) {
            record(what + " failed: " + e.getMessage());
            throw e;
        }
    }

    private void record(String line) {
        audit.add(line);
        log.info("offsite audit: {}", line);
    }

    /** A backup whose offsite copy is audited; the auditor is returned for the application to read. */
    public static AuditedOffsiteCopy backupWithAudit(PgBackupConfig config) {
        AuditedOffsiteCopy[] installed = new AuditedOffsiteCopy[1];
        PgBackup pg = PgBackup.builder(config)
                .remoteSyncer(defaultSyncer -> installed[0] = new AuditedOffsiteCopy(defaultSyncer))
                .build();
        pg.archiveSetup().init();
        pg.backups().backup(BackupOptions.defaults());
        return installed[0];
    }
}
