package io.pgbackup.core.restore;

import io.pgbackup.core.restore.RecoveryTarget.TargetAction;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport.BackupVerdict;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static io.pgbackup.core.testing.ArchivingCluster.fingerprint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole point-in-time cycle with a PG_BACKUP_DIR holding every character that PostgreSQL's
 * configuration parser or {@code /bin/sh} reads specially. restore_command used to lose its
 * backslashes in postgresql.auto.conf: a {@code "} made every call a shell syntax error, which
 * PostgreSQL takes for "not archived", so the copy promoted at the end of the backup without
 * replaying the archive; a {@code $(...)} ran.
 */
class HostileBackupDirTest {
    /** One directory name with them all: quote, a lone double quote, backslash, $(...), backticks, spaces. */
    static final String HOSTILE = "it's a \"q \\back $(touch pwned) `touch pwned2` $HOME";

    @TempDir
    Path work;

    ArchivingCluster source;
    PgCluster copy;
    Path scratch;

    @AfterEach
    void stop() throws Exception {
        if (scratch != null) {
            Files.deleteIfExists(scratch);
        }
        if (copy != null) {
            copy.close();
        }
        if (source != null) {
            source.close();
        }
    }

    @Test
    void aPitrCycleThroughAHostileBackupDirRestoresEveryRow() throws Exception {
        Path repo = work.resolve(HOSTILE).resolve("repo");
        source = ArchivingCluster.create(work, repo);
        PgBackup pg = source.pgBackup();
        source.cluster().execute("CREATE TABLE orders (id int PRIMARY KEY, item text)",
                "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 1000) g");
        BackupInfo backup = pg.backups().backup(BackupOptions.defaults());
        // Rows only the archive holds: a copy that never ran restore_command successfully lacks them.
        source.cluster().execute("INSERT INTO orders SELECT g, 'late ' || g FROM generate_series(1001, 3000) g");
        source.switchAndAwaitArchived();
        source.cluster().execute("INSERT INTO orders SELECT g, 'later ' || g FROM generate_series(3001, 4000) g");
        String atEnd = fingerprint(source.cluster(), "orders");
        source.switchAndAwaitArchived();
        source.cluster().stop();

        Path target = work.resolve("restored");
        RestorePlan plan = pg.restorePlanner().plan(new RestoreRequest(Optional.of(backup.id()), new RecoveryTarget.EndOfWal(),
                TargetAction.PROMOTE, Optional.of(target), false));
        assertThat(plan.wal()).as("the late rows are in archived WAL only").isNotEmpty();
        pg.restorePlanner().execute(plan);
        PgCluster.run(List.of(PgCluster.binaries().tool("pg_verifybackup").toString(), "--no-parse-wal", "--manifest-path",
                Path.of(backup.location()).resolve("backup_manifest").toString(), target.toString()), Duration.ofMinutes(2));
        // Past the prefetched segments, replay must fetch through restore_command itself.
        try (Stream<Path> prefetched = Files.list(target.resolve("pg_wal/pgbackup_prefetch"))) {
            prefetched.filter(f -> !f.getFileName().toString().startsWith(".")).forEach(f -> f.toFile().delete());
        }
        copy = PgCluster.startExisting(target, work.resolve("run-restored"), source.cluster().password());
        copy.awaitPromoted(Duration.ofMinutes(2));

        assertThat(fingerprint(copy, "orders")).as(copy.log()).isEqualTo(atEnd);
        assertThat(copy.log()).doesNotContain("syntax error").doesNotContain("not found");
        copy.close();
        copy = null;

        // The verify restore test writes its own settings (socket directory, hba_file) the same way. Its directory
        // takes what pg_ctl's shell leaves alone: a quote, a backslash, a space; short enough to hold the socket.
        scratch = Files.createDirectory(Path.of("/tmp", "q'\\ " + Long.toHexString(System.nanoTime() & 0xffffff)));
        BackupVerdict verdict = pg.verifier().verify(VerifyRequest.of(backup.id()).withRestoreTest(true)
                .withRestoreTestDir(scratch)).backups().get(0);
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();

        try (Stream<Path> all = Files.walk(work)) {
            assertThat(all.map(f -> f.getFileName().toString())).as("no $(...) or `...` ran")
                    .doesNotContain("pwned", "pwned2");
        }
    }
}
