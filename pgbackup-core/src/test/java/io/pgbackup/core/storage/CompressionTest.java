package io.pgbackup.core.storage;

import io.pgbackup.core.PgBackupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static io.pgbackup.core.storage.ExternalTools.assumeInstalled;
import static io.pgbackup.core.storage.ExternalTools.compressible;
import static io.pgbackup.core.storage.ExternalTools.random;
import static io.pgbackup.core.storage.ExternalTools.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CompressionTest {
    /** The command-line tool for each format, as an operator would use it on a repository file. */
    private static final Map<Compression, String> TOOLS = Map.of(
            Compression.GZIP, "gzip", Compression.ZSTD, "zstd", Compression.LZ4, "lz4");

    @TempDir
    Path dir;

    @Test
    void namesAndSuffixes() {
        assertThat(Compression.values()).extracting(Compression::cliName).containsExactly("gzip", "zstd", "lz4", "none");
        assertThat(Compression.values()).extracting(Compression::suffix).containsExactly(".gz", ".zst", ".lz4", "");
        assertThat(Compression.DEFAULT).isEqualTo(Compression.GZIP);
        assertThat(Compression.parse("--compress", " ZSTD ")).isEqualTo(Compression.ZSTD);
        assertThat(Compression.parse("PG_BACKUP_COMPRESS", "lz4")).isEqualTo(Compression.LZ4);
        assertThat(Compression.parse("--compress", "none")).isEqualTo(Compression.NONE);
        assertThatThrownBy(() -> Compression.parse("--compress", "bzip2"))
                .isInstanceOf(PgBackupException.class)
                .hasMessageContaining("--compress='bzip2'")
                .hasMessageContaining("gzip, zstd, lz4, none");
        assertThat(Compression.ofSuffix("base.tar.zst")).contains(Compression.ZSTD);
        assertThat(Compression.ofSuffix("000000010000000000000001.lz4")).contains(Compression.LZ4);
        assertThat(Compression.ofSuffix("base.tar.gz")).contains(Compression.GZIP);
        assertThat(Compression.ofSuffix("base.tar")).isEmpty();
        assertThat(Compression.ofFile("base.tar.zst", "base.tar")).contains(Compression.ZSTD);
        assertThat(Compression.ofFile("base.tar", "base.tar")).contains(Compression.NONE);
        assertThat(Compression.ofFile("base.tar.bz2", "base.tar")).isEqualTo(Optional.empty());
    }

    @Test
    void levelsAreValidated() {
        for (Compression c : Compression.values()) {
            assertThat(c.defaultLevel()).isBetween(c.minLevel(), c.maxLevel());
        }
        OutputStream sink = new ByteArrayOutputStream();
        assertThatThrownBy(() -> Compression.GZIP.compress(sink, 10, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gzip level must be 1..9");
        assertThatThrownBy(() -> Compression.ZSTD.compress(sink, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Compression.LZ4.compress(sink, 13, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Compression.ZSTD.compress(sink, 3, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(Compression.class)
    void roundTripsWithDefaults(Compression c) throws IOException {
        for (int size : new int[] {0, 1, 100_000, 5 * 1024 * 1024 + 7}) {
            for (byte[] data : List.of(compressible(size, size), random(size, size + 1))) {
                assertThat(c.decompress(new ByteArrayInputStream(compressed(c, data))).readAllBytes())
                        .as("%s, %d bytes", c, size).isEqualTo(data);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void roundTripsAtEveryLevelAndThreadCount(Compression c) throws IOException {
        byte[] data = compressible(300_000, 42);
        for (int level = c.minLevel(); level <= c.maxLevel(); level++) {
            for (int threads : new int[] {1, 3}) {
                ByteArrayOutputStream sink = new ByteArrayOutputStream();
                try (OutputStream out = c.compress(sink, level, threads)) {
                    // Tar writes 512-byte records: small writes must work (and stay cheap).
                    for (int at = 0; at < data.length; at += 512) {
                        out.write(data, at, Math.min(512, data.length - at));
                    }
                }
                assertThat(sink.size()).as("%s level %d compresses", c, level).isLessThan(data.length / 3);
                assertThat(c.decompress(new ByteArrayInputStream(sink.toByteArray())).readAllBytes())
                        .as("%s level %d, %d threads", c, level, threads).isEqualTo(data);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void theRealToolReadsWhatWeWriteAndWeReadWhatItWrites(Compression c) throws Exception {
        String tool = TOOLS.get(c);
        assumeInstalled(tool);
        byte[] data = compressible(3 * 1024 * 1024 + 11, 99);

        Path ours = dir.resolve("ours" + c.suffix());
        try (OutputStream out = c.compress(Files.newOutputStream(ours))) {
            out.write(data);
        }
        assertThat(run(List.of(tool, "-t", ours.toString()), null, dir.resolve("test.out"))).as("%s -t", tool).isZero();
        Path plain = dir.resolve("ours.plain");
        assertThat(run(List.of(tool, "-dc"), ours, plain)).as("%s -dc", tool).isZero();
        assertThat(Files.readAllBytes(plain)).isEqualTo(data);

        Path input = dir.resolve("input");
        Files.write(input, data);
        Path theirs = dir.resolve("theirs" + c.suffix());
        assertThat(run(List.of(tool, "-c"), input, theirs)).as("%s -c", tool).isZero();
        try (InputStream in = c.decompress(Files.newInputStream(theirs))) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void concatenatedFilesReadAsOneLikeTheTools(Compression c) throws IOException {
        byte[] first = compressible(200_000, 1);
        byte[] second = random(70_000, 2);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        for (byte[] part : List.of(first, second)) {
            ByteArrayOutputStream one = new ByteArrayOutputStream();
            try (OutputStream out = c.compress(one)) {
                out.write(part);
            }
            sink.writeBytes(one.toByteArray());
        }
        byte[] expected = new byte[first.length + second.length];
        System.arraycopy(first, 0, expected, 0, first.length);
        System.arraycopy(second, 0, expected, first.length, second.length);
        assertThat(c.decompress(new ByteArrayInputStream(sink.toByteArray())).readAllBytes()).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void corruptionIsDetected(Compression c) throws IOException {
        byte[] damaged = compressed(c, random(400_000, 5));
        // Random data is stored nearly verbatim, so a flipped byte in the middle is content, caught only by the checksum.
        damaged[damaged.length / 2] ^= 0x5a;
        assertThatThrownBy(() -> c.decompress(new ByteArrayInputStream(damaged)).readAllBytes())
                .isInstanceOf(IOException.class);
    }

    @ParameterizedTest
    @EnumSource(value = Compression.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void truncationIsDetected(Compression c) throws IOException {
        byte[] whole = compressed(c, compressible(1_000_000, 6));
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 5);
        assertThatThrownBy(() -> c.decompress(new ByteArrayInputStream(cut)).readAllBytes())
                .isInstanceOf(IOException.class);
    }

    private static byte[] compressed(Compression c, byte[] data) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (OutputStream out = c.compress(sink)) {
            out.write(data);
        }
        return sink.toByteArray();
    }
}
