package io.pgbackup.examples;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.storage.Storage;

import java.nio.file.Path;
import java.time.Clock;

/**
 * Embedding pgbackup in a JVM application: configuration built in code rather than read from the
 * environment, a backup taken, the repository listed and its status checked. An application
 * would call {@link #run} from its own scheduler.
 *
 * <p>Run: {@code java -cp ... io.pgbackup.examples.EmbeddedNightlyBackup} with the spec's
 * environment variables set, or call {@link #run} with a config of your own.
 */
public final class EmbeddedNightlyBackup {
    private EmbeddedNightlyBackup() {
    }

    /** What one run did: the new backup, and the status verdict right after it. */
    public record Outcome(BackupInfo backup, int backupsInRepository, StatusReport.Verdict verdict) {
    }

    public static Outcome run(PgBackupConfig config) {
        PgBackup pg = PgBackup.builder(config)
                .clock(Clock.systemDefaultZone())
                // The default, spelled out: an application that meters or audits the repository's
                // writes wraps this Storage (every object goes through it).
                .storage(Storage.local(config.requireBackupDir()))
                .build();
        // init is idempotent: the layout and scripts exist after the first run.
        pg.archiveSetup().init();
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults().withFastCheckpoint(false));
        int count = pg.backups().list().size();
        StatusReport status = pg.status().report();
        return new Outcome(backup, count, status.verdict());
    }

    public static void main(String[] args) {
        PgBackupConfig config = PgBackupConfig.fromEnvironment();
        Outcome outcome = run(config);
        System.out.printf("backup %s: %d bytes stored in %s; %d backups in %s; status %s%n",
                outcome.backup().id(), outcome.backup().storedBytes(), outcome.backup().manifest().duration(),
                outcome.backupsInRepository(), config.requireBackupDir(), outcome.verdict());
    }

    /** The same configuration, built in code: what an application with its own settings does. */
    public static PgBackupConfig configure(String host, int port, String user, String password, String database,
                                           Path backupDir) {
        return PgBackupConfig.builder()
                .host(host).port(port)
                .user(user).password(password).database(database)
                .backupDir(backupDir)
                .retainCount(3).retainDays(7)
                .build();
    }
}
