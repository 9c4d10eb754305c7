package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.EncryptionConfig;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.process.CommonsExecProcessRunner;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wrap key is read when a command first needs the repository, not when a {@link PgBackup} is
 * made: an embedder that builds one per request, or a command that never touches the repository,
 * does not run the secret manager's key command.
 */
class KeyOnFirstUseTest {
    @TempDir
    Path dir;

    @Test
    void buildingAPgBackupRunsNoKeyCommandAndItsFirstRepositoryCommandRunsItOnce() throws Exception {
        KeyGenerator.Generated key = KeyGenerator.generate(dir.resolve("key.json"), Optional.empty());
        Path root = dir.resolve("repo");
        new Repository(root).createLayout();
        List<List<String>> ran = new CopyOnWriteArrayList<>();
        ProcessRunner real = new CommonsExecProcessRunner();
        ProcessRunner recording = spec -> {
            ran.add(spec.command());
            return real.run(spec);
        };
        PgBackupConfig config = PgBackupConfig.builder().backupDir(root)
                .encryption(EncryptionConfig.keyCommand("cat " + key.keyFile())).build();

        PgBackup pg = PgBackup.builder(config).processRunner(recording).build();
        assertThat(ran).isEmpty();

        assertThat(pg.backups().list()).isEmpty();
        assertThat(pg.backups().list()).isEmpty();
        assertThat(ran).containsExactly(List.of("cat", key.keyFile().toString()));
    }
}
