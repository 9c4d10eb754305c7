package io.pgbackup.core.internal.sync;

import io.pgbackup.core.sync.RemoteSyncer.SyncResult;


import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.backup.ManifestCodec;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.testing.SshServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pgbackup sync against a real OpenSSH sshd on 127.0.0.1 with real rsync, on a synthetic repository. */
class RemoteSyncTest {
    @RegisterExtension
    static final SshServer.PerClass ssh = new SshServer.PerClass();

    @TempDir
    Path work;
    Path local;
    Path remote;
    Repository repository;

    @BeforeEach
    void repository() throws IOException {
        local = work.resolve("local");
        remote = work.resolve("offsite/copy");
        repository = new Repository(local);
        repository.createLayout();
    }

    private PgBackup pg(int port, String sshCommand) {
        return PgBackup.create(PgBackupConfig.builder().backupDir(local)
                .remote(ssh.host(), ssh.user(), remote.toString(), port).sshCommand(sshCommand).build());
    }

    private PgBackup pg() {
        return pg(ssh.port(), ssh.sshCommand());
    }

    private String backup(int daysAgo, int size) throws IOException {
        OffsetDateTime end = OffsetDateTime.now(ZoneOffset.UTC).minusDays(daysAgo);
        String id = end.format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss"));
        Path dir = Files.createDirectories(repository.baseDir().resolve(id));
        Files.write(dir.resolve("base.tar.gz"), random(size));
        Files.write(dir.resolve("pg_wal.tar.gz"), random(size / 4));
        BackupManifest m = BackupManifest.builder()
                .formatVersion(1)
                .id(id)
                .label("pgbackup " + id)
                .startTime(end)
                .endTime(end)
                .durationMillis(1)
                .pgbackupVersion("t")
                .postgresVersion("18.1")
                .postgresVersionNum(180001)
                .systemIdentifier("1")
                .timeline(1)
                .startLsn("0/0")
                .stopLsn("0/0")
                .startWalFile("000000010000000000000002")
                .stopWalFile("000000010000000000000002")
                .walSegmentSize(16L << 20)
                .compression("gzip")
                .databaseSizeBytes(size)
                .checkpoint("fast")
                .files(List.of())
                .build();
        Files.write(dir.resolve(Repository.MANIFEST_FILE), new ManifestCodec().toJson(m));
        return id;
    }

    private static byte[] random(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    private void wal(int from, int to) throws IOException {
        for (int s = from; s <= to; s++) {
            Files.write(repository.walArchiveDir().resolve(String.format("00000001%016X.zst", s)), random(10_000 + s));
        }
    }

    /** Every non-hidden file below {@code root} with its SHA-256. */
    private static Map<String, String> digests(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                String rel = root.relativize(p).toString();
                if (Stream.of(rel.split("/")).anyMatch(part -> part.startsWith("."))) {
                    continue;
                }
                if (rel.startsWith("base/") || rel.startsWith("wal_archive/")) {
                    out.put(rel, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                }
            }
        }
        return out;
    }

    @Test
    void copiesWalAndBackupsManifestsLastThenNothingNewTheSecondTime() throws Exception {
        String b1 = backup(2, 300_000);
        String b2 = backup(1, 200_000);
        wal(1, 5);
        Files.createDirectories(repository.baseDir().resolve(".staging-20990101_000000-1")).resolve("base.tar").toFile().createNewFile();
        Files.createDirectories(repository.baseDir().resolve(".deleting-20000101_000000"));
        Files.writeString(repository.walArchiveDir().resolve(".000000010000000000000006.zst.tmp.99"), "partial");
        Files.writeString(repository.root().resolve(".pgbackup.lock"), "backup, pid 1");

        SyncResult first = pg().remoteSyncer().sync(false);

        assertThat(first.dryRun()).isFalse();
        assertThat(first.target()).isEqualTo(ssh.user() + "@127.0.0.1:" + remote);
        assertThat(first.filesTransferred()).isEqualTo(5 + 2 * 3);
        assertThat(digests(remote)).isEqualTo(digests(local)).hasSize(11);
        assertThat(first.bytesTransferred()).isEqualTo(digests(local).keySet().stream()
                .mapToLong(f -> local.resolve(f).toFile().length()).sum());
        // WAL first; each backup's data before any manifest.
        List<String> order = first.files();
        assertThat(order.subList(0, 5)).allMatch(f -> f.startsWith("wal_archive/"));
        int firstManifest = order.indexOf("base/" + b1 + "/" + Repository.MANIFEST_FILE);
        assertThat(order.subList(firstManifest, order.size())).allMatch(f -> f.endsWith(Repository.MANIFEST_FILE)).hasSize(2);
        // Hidden entries never travel; the remote reads as a repository with both backups.
        try (Stream<Path> all = Files.walk(remote)) {
            assertThat(all.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("."));
        }
        assertThat(new Repository(remote).backupIds()).containsExactly(b1, b2);

        SyncResult second = pg().remoteSyncer().sync(false);
        assertThat(second.filesTransferred()).isZero();
        assertThat(second.bytesTransferred()).isZero();
    }

    @Test
    void dryRunListsWhatWouldGoAndCopiesNothing() throws Exception {
        backup(1, 50_000);
        wal(1, 2);
        SyncResult dry = pg().remoteSyncer().sync(true);
        assertThat(dry.dryRun()).isTrue();
        assertThat(dry.files()).hasSize(5).contains("wal_archive/000000010000000000000001.zst");
        assertThat(remote).doesNotExist();

        pg().remoteSyncer().sync(false);
        wal(3, 3);
        SyncResult next = pg().remoteSyncer().sync(true);
        assertThat(next.files()).containsExactly("wal_archive/000000010000000000000003.zst");
        assertThat(remote.resolve("wal_archive/000000010000000000000003.zst")).doesNotExist();
    }

    @Test
    void neverDeletesOnTheRemote() throws Exception {
        String id = backup(3, 10_000);
        wal(1, 3);
        pg().remoteSyncer().sync(false);
        Files.delete(repository.walArchiveDir().resolve("000000010000000000000001.zst"));
        io.pgbackup.core.internal.storage.AtomicFiles.deleteTree(repository.baseDir().resolve(id));
        pg().remoteSyncer().sync(false);
        assertThat(remote.resolve("wal_archive/000000010000000000000001.zst")).exists();
        assertThat(new Repository(remote).backupIds()).containsExactly(id);
    }

    @Test
    void aClosedPortFailsWithOneLineNamingTheHostAndCause() throws Exception {
        wal(1, 1);
        int closed = PgCluster.freePort();
        assertThatThrownBy(() -> pg(closed, ssh.sshCommand()).remoteSyncer().sync(false))
                .isInstanceOfSatisfying(PgBackupException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.EXTERNAL_TOOL_FAILED);
                    assertThat(e.getMessage()).doesNotContain("\n").contains("127.0.0.1")
                            .contains("port " + closed).contains("refused");
                });
    }

    @Test
    void anUnknownKeyIsAnAuthenticationFailureNotAPrompt() throws Exception {
        wal(1, 1);
        Path stranger = work.resolve("stranger_key");
        PgCluster.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger.toString()), java.time.Duration.ofSeconds(30));
        String command = ssh.sshCommand().replaceFirst("-i \\S+", "-i " + stranger);
        assertThatThrownBy(() -> pg(ssh.port(), command).remoteSyncer().sync(false))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining("SSH authentication to " + ssh.user() + "@127.0.0.1 port " + ssh.port() + " refused")
                .hasMessageContaining("ssh-copy-id")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void withoutARemoteHostItIsAUsageErrorNamingTheVariable() {
        PgBackup pg = PgBackup.create(PgBackupConfig.builder().backupDir(local).build());
        assertThatThrownBy(() -> pg.remoteSyncer().sync(false))
                .isInstanceOfSatisfying(PgBackupException.class, e -> assertThat(e.code().isUsageError()).isTrue())
                .hasMessageStartingWith("PG_BACKUP_REMOTE_HOST is not set");
    }

    @Test
    void sshCommandWordsAreSplitAndQuotedForRsync() {
        assertThat(SshCommand.split("ssh -i '/key dir/id' -o \"UserKnownHostsFile=/a b\"  -v"))
                .containsExactly("ssh", "-i", "/key dir/id", "-o", "UserKnownHostsFile=/a b", "-v");
        var remoteConfig = new io.pgbackup.core.config.RemoteConfig("h", "u", "/d", 2222, "ssh -i '/key dir/id'");
        assertThat(SshCommand.forRsync(remoteConfig))
                .isEqualTo("ssh -i '/key dir/id' -p 2222 -o BatchMode=yes -o ConnectTimeout=10");
        assertThatThrownBy(() -> SshCommand.split("ssh -i 'open")).hasMessageContaining("unclosed");
    }
}
