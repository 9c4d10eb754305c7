package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The builder makes the same manifest, and the same JSON, as the record's constructor. */
class ManifestBuilderTest {
    private static final OffsetDateTime START = OffsetDateTime.of(2026, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC);
    private static final List<BackupManifest.BackupFile> FILES = List.of(
            new BackupManifest.BackupFile("base.tar.gz", 1234, "ab"), new BackupManifest.BackupFile("16385.tar.gz", 56, "cd"));
    private static final List<BackupManifest.Tablespace> TABLESPACES =
            List.of(new BackupManifest.Tablespace(16385, "/srv/ts", "16385.tar.gz"));

    private static BackupManifest viaConstructor() {
        return new BackupManifest(1, "20260102_030405", "nightly", START, START.plusMinutes(2), 120_000, "1.2.3",
                "15.4", 150004, "7000000000000000001", 2, "0/2000028", "0/2000100", "000000020000000000000002",
                "000000020000000000000002", 16L << 20, "gzip", 987_654, "fast", FILES, TABLESPACES, true);
    }

    private static BackupManifest viaBuilder() {
        return BackupManifest.builder()
                .id("20260102_030405")
                .label("nightly")
                .startTime(START)
                .endTime(START.plusMinutes(2))
                .durationMillis(120_000)
                .pgbackupVersion("1.2.3")
                .postgresVersion("15.4")
                .postgresVersionNum(150004)
                .systemIdentifier("7000000000000000001")
                .timeline(2)
                .startLsn("0/2000028")
                .stopLsn("0/2000100")
                .startWalFile("000000020000000000000002")
                .stopWalFile("000000020000000000000002")
                .walSegmentSize(16L << 20)
                .compression("gzip")
                .databaseSizeBytes(987_654)
                .checkpoint("fast")
                .files(FILES)
                .tablespaces(TABLESPACES)
                .fromStandby(true)
                .build();
    }

    @Test
    void builderMakesTheSameManifestAndTheSameBytes() {
        ManifestCodec codec = new ManifestCodec();
        assertThat(viaBuilder()).isEqualTo(viaConstructor());
        assertThat(codec.toJson(viaBuilder())).isEqualTo(codec.toJson(viaConstructor()));
        // the layout of pgbackup_manifest.json, field by field, as older builds wrote it
        assertThat(new String(codec.toJson(viaBuilder()), StandardCharsets.UTF_8)).isEqualTo(GOLDEN);
    }

    @Test
    void toBuilderRoundTripsAndChangesOnlyWhatIsSet() {
        BackupManifest m = viaConstructor();
        assertThat(m.toBuilder().build()).isEqualTo(m);
        BackupManifest relabelled = m.toBuilder().label("other").build();
        assertThat(relabelled.label()).isEqualTo("other");
        assertThat(relabelled.toBuilder().label("nightly").build()).isEqualTo(m);
    }

    @Test
    void defaultsAreTheCurrentFormatNoTablespacesAndAPrimary() {
        BackupManifest m = BackupManifest.builder().id("x").files(FILES).build();
        assertThat(m.formatVersion()).isEqualTo(BackupManifest.FORMAT_VERSION);
        assertThat(m.tablespaces()).isEmpty();
        assertThat(m.fromStandby()).isFalse();
    }

    private static final String GOLDEN = """
            {
              "formatVersion" : 1,
              "id" : "20260102_030405",
              "label" : "nightly",
              "startTime" : "2026-01-02T03:04:05Z",
              "endTime" : "2026-01-02T03:06:05Z",
              "durationMillis" : 120000,
              "pgbackupVersion" : "1.2.3",
              "postgresVersion" : "15.4",
              "postgresVersionNum" : 150004,
              "systemIdentifier" : "7000000000000000001",
              "timeline" : 2,
              "startLsn" : "0/2000028",
              "stopLsn" : "0/2000100",
              "startWalFile" : "000000020000000000000002",
              "stopWalFile" : "000000020000000000000002",
              "walSegmentSize" : 16777216,
              "compression" : "gzip",
              "databaseSizeBytes" : 987654,
              "checkpoint" : "fast",
              "files" : [ {
                "name" : "base.tar.gz",
                "size" : 1234,
                "sha256" : "ab"
              }, {
                "name" : "16385.tar.gz",
                "size" : 56,
                "sha256" : "cd"
              } ],
              "tablespaces" : [ {
                "oid" : 16385,
                "location" : "/srv/ts",
                "file" : "16385.tar.gz"
              } ],
              "fromStandby" : true,
              "type" : "full",
              "chain" : [ ]
            }""";
}
