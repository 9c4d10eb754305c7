package io.pgbackup.core.internal.postgres.replication;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pieces that need no server: command grammar per version, WAL positions and names, tar headers. */
class ReplicationProtocolTest {
    @Test
    void serversOutside12To18AreRefusedInOneLineNamingTheVersion() throws Exception {
        BaseBackupClient.requireSupported(120000, "h:1");
        BaseBackupClient.requireSupported(180001, "h:1");
        assertThatThrownBy(() -> BaseBackupClient.requireSupported(110022, "db:5432"))
                .hasMessage("PostgreSQL 11 is older than 12, which pgbackup needs (server at db:5432)");
        assertThatThrownBy(() -> BaseBackupClient.requireSupported(190000, "db:5432"))
                .hasMessage("PostgreSQL 19 is newer than this pgbackup knows (12 to 18; server at db:5432):"
                        + " use a pgbackup release that supports it");
    }

    @Test
    void baseBackupUsesTheOptionListFrom15AndTheKeywordsBefore() {
        BaseBackupRequest plain = new BaseBackupRequest("it's nightly", true, Optional.empty());
        assertThat(BaseBackupClient.baseBackupCommand(plain, 150004)).isEqualTo("BASE_BACKUP (LABEL 'it''s nightly',"
                + " PROGRESS, CHECKPOINT 'fast', WAIT false, MANIFEST 'yes', TABLESPACE_MAP)");
        assertThat(BaseBackupClient.baseBackupCommand(plain, 140010))
                .isEqualTo("BASE_BACKUP LABEL 'it''s nightly' PROGRESS FAST NOWAIT TABLESPACE_MAP MANIFEST 'yes'");
        // 12 sends no manifest
        assertThat(BaseBackupClient.baseBackupCommand(new BaseBackupRequest("x", false, Optional.empty()), 120022))
                .isEqualTo("BASE_BACKUP LABEL 'x' PROGRESS NOWAIT TABLESPACE_MAP");
        assertThat(BaseBackupClient.baseBackupCommand(
                new BaseBackupRequest("x", false, Optional.of("zstd:level=3,workers=2")), 170000))
                .isEqualTo("BASE_BACKUP (LABEL 'x', PROGRESS, CHECKPOINT 'spread', WAIT false, MANIFEST 'yes',"
                        + " TABLESPACE_MAP, COMPRESSION 'zstd', COMPRESSION_DETAIL 'level=3,workers=2')");
        assertThat(BaseBackupClient.baseBackupCommand(new BaseBackupRequest("x", true, Optional.of("lz4")), 160000))
                .endsWith("COMPRESSION 'lz4')");
        // With the parent's backup_manifest uploaded (17+), the server makes the INCREMENTAL files itself.
        assertThat(BaseBackupClient.baseBackupCommand(new BaseBackupRequest("x", true, Optional.empty(),
                Optional.of(new byte[] {'{'})), 170000)).endsWith("TABLESPACE_MAP, INCREMENTAL)");
    }

    @Test
    void versionsAndSizesReadAsPostgresWritesThem() throws Exception {
        assertThat(BaseBackupClient.majorName(110022)).isEqualTo("11");
        assertThat(BaseBackupClient.majorName(90624)).isEqualTo("9.6");
        assertThat(BaseBackupClient.parseSize("16MB")).isEqualTo(16 << 20);
        assertThat(BaseBackupClient.parseSize("1GB")).isEqualTo(1 << 30);
        assertThatThrownBy(() -> BaseBackupClient.parseSize("15MB")).hasMessageContaining("power of two");
    }

    @Test
    void lsnsAndSegmentNames() {
        Lsn lsn = Lsn.parse("16/B374D848");
        assertThat(lsn.value()).isEqualTo(0x16B374D848L);
        assertThat(lsn).hasToString("16/B374D848");
        assertThat(lsn.segmentStart(16 << 20)).hasToString("16/B3000000");
        assertThat(Lsn.parse("0/0")).isLessThan(Lsn.parse("0/1"));
        assertThat(Lsn.parse("FFFFFFFF/0")).isGreaterThan(Lsn.parse("1/0")); // unsigned
        assertThatThrownBy(() -> Lsn.parse("16B374D848")).isInstanceOf(IllegalArgumentException.class);
        assertThat(WalTarWriter.segmentFileName(1, 0x16B3, 16 << 20)).isEqualTo("0000000100000016000000B3");
        // 16/B3000000 with 64 MiB segments: 0xB3000000 / 64 MiB = 0x2C
        assertThat(WalTarWriter.segmentFileName(2, 0x16B3 / 4, 64 << 20)).isEqualTo("00000002000000160000002C");
    }

    @Test
    void tarHeadersAreThoseOfPostgresTarCreateHeader() {
        byte[] h = WalTarWriter.header("000000010000000000000003", 16 << 20);
        assertThat(new String(h, 100, 8, StandardCharsets.US_ASCII)).isEqualTo("0000600 ");
        assertThat(new String(h, 124, 12, StandardCharsets.US_ASCII)).isEqualTo("00100000000 ");
        assertThat(new String(h, 257, 8, StandardCharsets.US_ASCII)).isEqualTo("ustar\u000000");
        assertThat(new String(h, 265, 8, StandardCharsets.US_ASCII)).isEqualTo("postgres");
        int sum = 8 * ' ';
        for (int i = 0; i < 512; i++) {
            sum += i < 148 || i >= 156 ? h[i] & 0xFF : 0;
        }
        assertThat(new String(h, 148, 8, StandardCharsets.US_ASCII)).isEqualTo(String.format("%07o ", sum));
    }

    @Test
    void settingsNeverShowThePassword() {
        ReplicationSettings s = new ReplicationSettings("/run/postgresql", 5432, "backup", Optional.of("s3cret"));
        assertThat(s.toString()).doesNotContain("s3cret").contains("(set)");
        assertThat(s.address()).isEqualTo("/run/postgresql/.s.PGSQL.5432");
    }

    @Test
    void aServerThatAcceptsButNeverAnswersFailsWithinTheConnectTimeout() throws Exception {
        // the kernel completes the TCP handshake from the backlog; nobody ever answers the startup packet
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            ReplicationSettings settings = new ReplicationSettings("127.0.0.1", silent.getLocalPort(), "u",
                    Optional.empty(), Duration.ofMillis(500));
            long start = System.nanoTime();
            assertThatThrownBy(() -> new BaseBackupClient(settings)
                    .run(new BaseBackupRequest("x", true, Optional.empty()), new FileSink(java.nio.file.Path.of("unused"))))
                    .isInstanceOf(SocketTimeoutException.class).hasMessageContaining("did not complete the connection startup");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void nobodyListeningSaysWhere() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ReplicationSettings settings = new ReplicationSettings("127.0.0.1", port, "u", Optional.empty());
        assertThatThrownBy(() -> new BaseBackupClient(settings)
                .run(new BaseBackupRequest("x", true, Optional.empty()), new FileSink(java.nio.file.Path.of("unused"))))
                .hasMessageStartingWith("could not connect to server at 127.0.0.1 (127.0.0.1), port " + port + ": ")
                .hasMessageContaining("refused");
    }
}
