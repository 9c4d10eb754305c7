package io.pgbackup.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Issue 16, item 10, through the jar: what the CLI refuses or warns about, and that a refusal changes nothing. */
class HardeningCliTest {
    @TempDir
    Path work;

    private Map<String, String> repo() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PG_BACKUP_DIR", work.resolve("backups").toString());
        return env;
    }

    @Test
    void initAndStatusWarnAboutAPlainHttpEndpointOnAnotherMachine() throws Exception {
        // An address of this machine that is not loopback: nothing listens on the port, so the bucket fails at once.
        Optional<InetAddress> address = NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()).findFirst();
        assumeTrue(address.isPresent(), "this machine has a non-loopback IPv4 address");
        Map<String, String> env = repo();
        env.put("PG_BACKUP_S3_BUCKET", "backups");
        env.put("PG_BACKUP_S3_ENDPOINT", "http://" + address.get().getHostAddress() + ":1");

        CliProcess.Result init = CliProcess.run(env, "init");
        CliProcess.Result status = CliProcess.run(env, "status");

        assertThat(init.exitCode()).as(init.all()).isZero();
        assertThat(init.stderr().lines().filter(l -> l.contains("is plain http://"))).singleElement().asString()
                .startsWith("pgbackup: warning: PG_BACKUP_S3_ENDPOINT http://" + address.get().getHostAddress() + ":1 is plain http://")
                .endsWith("use https://");
        assertThat(status.stdout()).contains("  - PG_BACKUP_S3_ENDPOINT http://" + address.get().getHostAddress()
                + ":1 is plain http:// to another machine");
    }

    @Test
    void statusShowsARestoreInProgressInTextAndJson() throws Exception {
        Map<String, String> env = repo();
        assertThat(CliProcess.run(env, "init").exitCode()).isZero();
        // What 'pgbackup restore' leaves in the repository while the restored cluster replays.
        Path marker = Files.createDirectories(work.resolve("backups/restores")).resolve("20260101_000000-0a1b2c3d.json");
        Files.writeString(marker, "{\"version\":1,\"backup\":\"20260101_000000\",\"timeline\":1,"
                + "\"startWal\":\"000000010000000000000002\",\"target\":\"end of WAL\",\"targetDir\":\"/srv/restored\","
                + "\"host\":\"db2\",\"pid\":42,\"started\":\"2026-01-02T00:00:00Z\",\"renewed\":\"2026-01-02T00:00:00Z\","
                + "\"ttlSeconds\":86400}");

        CliProcess.Result text = CliProcess.run(env, "status");
        CliProcess.Result json = CliProcess.run(env, "status", "--json");

        assertThat(text.stdout()).contains("Restores in progress (cleanup keeps what their replay reads)")
                .containsPattern("  20260101_000000  into /srv/restored on db2, started 2026-01-02T00:00:00Z, WAL from"
                        + " 000000010000000000000002, marker live until \\S+");
        com.fasterxml.jackson.databind.JsonNode restores = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.stdout())
                .get("restores");
        assertThat(restores).hasSize(1);
        assertThat(restores.get(0).get("backupId").asText()).isEqualTo("20260101_000000");
        assertThat(restores.get(0).get("marker").asText()).isEqualTo("restores/20260101_000000-0a1b2c3d.json");
    }

    @Test
    void aLoopbackHttpEndpointGetsNoWarning() throws Exception {
        for (String endpoint : new String[]{"http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000", "https://s3.example.com"}) {
            Map<String, String> env = repo();
            env.put("PG_BACKUP_S3_BUCKET", "backups");
            env.put("PG_BACKUP_S3_ENDPOINT", endpoint);

            CliProcess.Result init = CliProcess.run(env, "init");

            assertThat(init.exitCode()).as(init.all()).isZero();
            assertThat(init.all()).as(endpoint).doesNotContain("plain http://");
        }
    }

    @Test
    void aRemoteHostOrUserBeginningWithADashIsRefusedAndNothingIsCreated() throws Exception {
        for (String[] setting : new String[][]{{"PG_BACKUP_REMOTE_HOST", "-oProxyCommand=touch /tmp/pwned"},
                {"PG_BACKUP_REMOTE_USER", "-oProxyCommand=x"}}) {
            Map<String, String> env = repo();
            env.put("PG_BACKUP_REMOTE_HOST", "backup.example.com");
            env.put(setting[0], setting[1]);

            CliProcess.Result init = CliProcess.run(env, "init");

            assertThat(init.exitCode()).as(init.all()).isEqualTo(2);
            assertThat(init.stdout()).isEmpty();
            assertThat(init.stderr().lines()).singleElement().asString()
                    .startsWith("pgbackup: " + setting[0] + " '" + setting[1] + "' begins with '-'");
            assertThat(work.resolve("backups")).doesNotExist();
        }
    }

    @Test
    void everyCommandThatWritesRefusesAGroupOrOtherWritableRepositoryAndChangesNothing() throws Exception {
        Map<String, String> env = repo();
        env.put("PG_BACKUP_REMOTE_HOST", "backup.invalid"); // sync copies there: it must not copy what others planted
        Path root = work.resolve("backups");
        assertThat(CliProcess.run(env, "init").exitCode()).isZero();
        // A temporary file of an archive call killed two hours ago: cleanup would remove it.
        Path temp = Files.writeString(root.resolve("wal_archive/.000000010000000000000001.gz.tmp.123"), "partial");
        Files.setLastModifiedTime(temp, FileTime.from(Instant.now().minus(Duration.ofHours(2))));

        for (String[] unsafe : new String[][]{{"", "rwxrwx---", "its group"}, {"", "rwx---rwx", "other users"},
                {"wal_archive", "rwxrwx---", "its group"}}) {
            Path dir = unsafe[0].isEmpty() ? root : root.resolve(unsafe[0]);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(unsafe[1]));
            for (String[] command : new String[][]{{"cleanup"}, {"backup"}, {"verify", "--all"}, {"sync", "--to", "remote"}}) {
                CliProcess.Result run = CliProcess.run(env, command);

                assertThat(run.exitCode()).as(String.join(" ", command) + ": " + run.all()).isEqualTo(1);
                assertThat(run.stderr().lines()).as(String.join(" ", command)).singleElement().asString()
                        .isEqualTo("pgbackup: " + dir.toRealPath() + " is writable by " + unsafe[2]
                                + ": another user could replace what PostgreSQL runs and replays; chmod go-w " + dir.toRealPath()
                                + " (or re-run 'pgbackup init', which makes it owner-only); nothing was changed");
            }
            assertThat(temp).exists();
            assertThat(root.resolve(".pgbackup.lock")).doesNotExist();
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        CliProcess.Result cleanup = CliProcess.run(env, "cleanup");
        assertThat(cleanup.exitCode()).as(cleanup.all()).isZero();
        assertThat(temp).doesNotExist();
    }
}
