package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Issue 16: 'wal-fetch --ahead --into DIR' through the jar, given a DIR that is not pgbackup's own. */
class WalFetchAheadCliTest {
    @TempDir
    Path work;

    @Test
    void aLinkedOrForeignDirectoryIsRefusedWithOneLineAndKeepsItsFiles() throws Exception {
        Path repo = work.resolve("repo");
        PgBackup.builder(PgBackupConfig.builder().backupDir(repo).build()).build().archiveSetup().init();
        Map<String, String> env = Map.of("PG_BACKUP_DIR", repo.toString());
        Path userDir = Files.createDirectories(work.resolve("documents"));
        Files.writeString(userDir.resolve("thesis.txt"), "keep me");
        Path link = Files.createDirectories(work.resolve("data/pg_wal")).resolve("pgbackup_prefetch");
        Files.createSymbolicLink(link, userDir);

        for (Path into : new Path[]{link, userDir}) {
            CliProcess.Result r = CliProcess.run(env, "wal-fetch", "--ahead", "4", "--into", into.toString(),
                    "000000010000000000000001");
            assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
            assertThat(r.stderr().strip()).contains(into.toString()).contains("pg_wal/pgbackup_prefetch")
                    .doesNotContain("\n").doesNotContain("Exception");
            try (var files = Files.list(userDir)) {
                assertThat(files.map(f -> f.getFileName().toString())).containsExactly("thesis.txt");
            }
            assertThat(Files.readString(userDir.resolve("thesis.txt"))).isEqualTo("keep me");
        }
    }
}
