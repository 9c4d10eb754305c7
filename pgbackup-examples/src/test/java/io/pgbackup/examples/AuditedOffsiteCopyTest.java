package io.pgbackup.examples;

import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.SshServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The service-replacement example: the inline offsite copy after a backup goes through the decorator, to a real sshd. */
class AuditedOffsiteCopyTest {
    @RegisterExtension
    static final SshServer.PerClass ssh = new SshServer.PerClass();

    @TempDir
    Path work;

    @Test
    void theCopyAfterABackupIsAuditedAndReachesTheRemote() throws Exception {
        Path remote = work.resolve("offsite");
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"))) {
            PgBackupConfig config = cluster.config(work.resolve("repo")).toBuilder()
                    .remote(ssh.host(), ssh.user(), remote.toString(), ssh.port()).sshCommand(ssh.sshCommand()).build();

            AuditedOffsiteCopy audit = AuditedOffsiteCopy.backupWithAudit(config);

            assertThat(audit.audit()).singleElement().asString().startsWith("copy of backup ").contains(" files, ");
            try (Stream<Path> copied = Files.walk(remote)) {
                assertThat(copied.map(p -> p.getFileName().toString())).contains("pgbackup_manifest.json", "base.tar.gz");
            }
        }
    }
}
