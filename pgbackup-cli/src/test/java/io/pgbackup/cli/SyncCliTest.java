package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.SshServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** sync through the real jar against a real sshd, its exit codes, and backup's inline-sync warning. */
class SyncCliTest {
    @RegisterExtension
    static final SshServer.PerClass ssh = new SshServer.PerClass();

    @TempDir
    Path work;

    private Map<String, String> env(Path repo, Path remote, int port) throws Exception {
        new Repository(repo).createLayout();
        Map<String, String> env = new HashMap<>();
        env.put("PG_BACKUP_DIR", repo.toString());
        env.put("PG_BACKUP_REMOTE_HOST", ssh.host());
        env.put("PG_BACKUP_REMOTE_USER", ssh.user());
        env.put("PG_BACKUP_REMOTE_DIR", remote.toString());
        env.put("PG_BACKUP_REMOTE_PORT", String.valueOf(port));
        env.put("PG_BACKUP_SSH_COMMAND", ssh.sshCommand());
        return env;
    }

    @Test
    void syncDryRunJsonAndASecondRunThatCopiesNothing() throws Exception {
        Path repo = work.resolve("repo");
        Path remote = work.resolve("remote");
        Map<String, String> env = env(repo, remote, ssh.port());
        for (int s = 1; s <= 3; s++) {
            Files.write(repo.resolve("wal_archive").resolve(String.format("00000001%016X.gz", s)), new byte[50_000 + s]);
        }

        CliProcess.Result dry = CliProcess.run(env, "sync", "--dry-run");
        assertThat(dry.exitCode()).as(dry.all()).isZero();
        assertThat(dry.stdout()).contains("would copy wal_archive/000000010000000000000001.gz")
                .contains("dry run: 3 file(s)").contains("nothing was changed");
        assertThat(remote).doesNotExist();

        CliProcess.Result run = CliProcess.run(env, "sync", "--json");
        assertThat(run.exitCode()).as(run.all()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.stdout());
        assertThat(json.path("filesTransferred").asInt()).isEqualTo(3);
        assertThat(json.path("bytesTransferred").asLong()).isEqualTo(3 * 50_000 + 6);
        assertThat(json.path("duration").asText()).startsWith("PT");
        assertThat(remote.resolve("wal_archive/000000010000000000000003.gz")).hasSize(50_003);

        CliProcess.Result again = CliProcess.run(env, "sync");
        assertThat(again.exitCode()).as(again.all()).isZero();
        assertThat(again.stdout()).startsWith("synced to " + ssh.user() + "@127.0.0.1:" + remote + ": 0 file(s), 0 B copied");
    }

    @Test
    void unreachableRemoteExitsOneWithOneLineAndMissingHostExitsTwo() throws Exception {
        Path repo = work.resolve("repo");
        int closed = PgCluster.freePort();
        CliProcess.Result down = CliProcess.run(env(repo, work.resolve("remote"), closed), "sync");
        assertThat(down.exitCode()).isEqualTo(1);
        assertThat(down.stderr().strip()).startsWith("pgbackup: sync to " + ssh.user() + "@127.0.0.1:")
                .contains("port " + closed + " refused").doesNotContain("\n").doesNotContain("Exception");

        CliProcess.Result noHost = CliProcess.run(Map.of("PG_BACKUP_DIR", repo.toString()), "sync");
        assertThat(noHost.exitCode()).isEqualTo(2);
        assertThat(noHost.stderr().strip()).startsWith("pgbackup: PG_BACKUP_REMOTE_HOST is not set").doesNotContain("\n");
    }

    @Test
    void backupSucceedsWithAWarningWhenTheRemoteIsDown() throws Exception {
        Path repo = work.resolve("repo");
        try (PgCluster cluster = PgCluster.create(work.resolve("pg"))) {
            Map<String, String> env = env(repo, work.resolve("remote"), PgCluster.freePort());
            env.putAll(cluster.environment(repo));
            CliProcess.Result text = CliProcess.run(env, "backup");
            assertThat(text.exitCode()).as(text.all()).isZero();
            assertThat(text.stdout()).contains("complete");
            assertThat(text.stderr()).contains("pgbackup: warning: remote copy failed").contains("refused");

            CliProcess.Result json = CliProcess.run(env, "backup", "--json");
            assertThat(json.exitCode()).as(json.all()).isZero();
            assertThat(new ObjectMapper().readTree(json.stdout()).path("warnings").get(0).asText()).contains("remote copy failed");
            CliProcess.Result list = CliProcess.run(env, "list", "--json");
            assertThat(new ObjectMapper().readTree(list.stdout())).hasSize(2).allSatisfy(b -> assertThat(b.has("warnings")).isFalse());
        }
    }
}
