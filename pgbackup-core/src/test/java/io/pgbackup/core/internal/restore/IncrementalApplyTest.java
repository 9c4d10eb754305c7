package io.pgbackup.core.internal.restore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Hand-built PostgreSQL 17 incremental files applied over the file an older backup left, in tars as backups store them. */
class IncrementalApplyTest {
    private static final int B = IncrementalFile.BLOCK_SIZE;

    @TempDir
    Path work;

    /** A block filled with one byte value. */
    private static byte[] block(int value) {
        byte[] b = new byte[B];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** An INCREMENTAL file as the server writes it: header, padding to a block, then the blocks in header order. */
    static byte[] incremental(int truncation, int... blocksAndValues) {
        int count = blocksAndValues.length / 2;
        long header = 12 + 4L * count;
        long padded = count == 0 ? header : (header + B - 1) / B * B;
        ByteBuffer out = ByteBuffer.allocate((int) (padded + (long) count * B)).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(IncrementalFile.MAGIC).putInt(count).putInt(truncation);
        for (int i = 0; i < count; i++) {
            out.putInt(blocksAndValues[2 * i]);
        }
        out.position((int) padded);
        for (int i = 0; i < count; i++) {
            out.put(block(blocksAndValues[2 * i + 1]));
        }
        return out.array();
    }

    static byte[] tar(Map<String, byte[]> files) throws IOException {
        return io.pgbackup.core.testing.RepositoryFixtures.tar(files);
    }


    private static byte[] blocks(int... values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int v : values) {
            out.writeBytes(block(v));
        }
        return out.toByteArray();
    }

    private long apply(Path root, byte[] archive, boolean delta, Set<String> seen) throws IOException {
        return new SafeTarExtractor(root, p -> { }, new InPlaceWriter(delta), seen)
                .extract(new ByteArrayInputStream(archive), "base.tar");
    }

    @Test
    void appliesBlocksOverTheOlderFileThenCutsOrExtendsItToTheTruncationLength() throws Exception {
        Path root = Files.createDirectories(work.resolve("root/base/5"));
        Files.write(root.resolve("16384"), blocks(1, 1, 1, 1));      // four blocks in the full
        Files.write(root.resolve("16385"), blocks(1, 1, 1, 1));
        Files.write(root.resolve("16386"), blocks(1, 1));
        Set<String> seen = new HashSet<>();
        byte[] archive = tar(new java.util.LinkedHashMap<>(Map.of(
                "base/5/INCREMENTAL.16384", incremental(4, 2, 7, 0, 8),   // blocks 2 and 0 changed, out of order
                "base/5/INCREMENTAL.16385", incremental(2),                // truncated to 2 blocks, nothing changed
                "base/5/INCREMENTAL.16386", incremental(3, 4, 9),          // extended: block 2 never written (zero), block 4 new
                "PG_VERSION", "17\n".getBytes())));
        apply(work.resolve("root"), archive, false, seen);

        assertThat(Files.readAllBytes(root.resolve("16384"))).isEqualTo(blocks(8, 1, 7, 1));
        assertThat(Files.readAllBytes(root.resolve("16385"))).isEqualTo(blocks(1, 1));
        assertThat(Files.readAllBytes(root.resolve("16386"))).isEqualTo(blocks(1, 1, 0, 0, 9));
        assertThat(seen).contains("base/5/16384", "base/5/16385", "base/5/16386", "PG_VERSION")
                .doesNotContain("base/5/INCREMENTAL.16384");
        assertThat(root.resolve("INCREMENTAL.16384")).doesNotExist();
    }

    @Test
    void deltaRewritesOnlyBlocksThatDifferAndCutsWholeFilesToSize() throws Exception {
        Path root = Files.createDirectories(work.resolve("root/base/5"));
        Files.write(root.resolve("16384"), blocks(8, 1, 7, 3, 3));
        Files.write(root.resolve("16390"), blocks(4, 4, 5));
        byte[] archive = tar(new java.util.LinkedHashMap<>(Map.of(
                "base/5/INCREMENTAL.16384", incremental(4, 2, 7, 0, 8),
                "base/5/16390", blocks(4, 6))));
        long written = apply(work.resolve("root"), archive, true, new HashSet<>());

        assertThat(Files.readAllBytes(root.resolve("16384"))).isEqualTo(blocks(8, 1, 7, 3));
        assertThat(Files.readAllBytes(root.resolve("16390"))).isEqualTo(blocks(4, 6));
        assertThat(written).as("only block 1 of 16390 differed").isEqualTo(B);
    }

    @Test
    void refusesForgedHeadersWithOneLineAndWritesNothing() throws Exception {
        Path root = Files.createDirectories(work.resolve("root/base/5"));
        Files.write(root.resolve("16384"), blocks(1, 1));
        byte[] huge = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(IncrementalFile.MAGIC)
                .putInt(0x7fffffff).putInt(2).array();
        byte[] farBlock = incremental(2, 1 << 20, 9);
        byte[] badMagic = incremental(2, 0, 9);
        badMagic[0] = 0;
        byte[] shortBody = Arrays.copyOf(incremental(2, 0, 9, 1, 9), 2 * B);
        byte[] twice = incremental(2, 0, 9, 0, 9);
        for (byte[] forged : new byte[][]{huge, farBlock, badMagic, shortBody, twice}) {
            byte[] archive = tar(Map.of("base/5/INCREMENTAL.16384", forged));
            assertThatThrownBy(() -> apply(work.resolve("root"), archive, false, null))
                    .isInstanceOf(SafeTarExtractor.UnsafeEntryException.class)
                    .hasMessageContaining("INCREMENTAL.16384").hasMessageNotContaining("\n");
            assertThat(Files.readAllBytes(root.resolve("16384"))).isEqualTo(blocks(1, 1));
        }
        byte[] orphan = tar(Map.of("base/5/INCREMENTAL.99999", incremental(2, 1, 9)));
        assertThatThrownBy(() -> apply(work.resolve("root"), orphan, false, null))
                .hasMessageContaining("changes 99999, which no older backup of the chain holds");
        assertThat(root.resolve("99999")).doesNotExist();
        // Every block below its length in the entry: a relation new since the parent, created whole.
        apply(work.resolve("root"), tar(Map.of("base/5/INCREMENTAL.99999", incremental(2, 1, 9, 0, 8))), false, null);
        assertThat(Files.readAllBytes(root.resolve("99999"))).isEqualTo(blocks(8, 9));
    }

    @Test
    void neverWritesThroughALinkInPlaceOfTheOlderFile() throws Exception {
        Path root = Files.createDirectories(work.resolve("root/base/5"));
        Path outside = Files.write(work.resolve("outside"), blocks(1, 1));
        Files.createSymbolicLink(root.resolve("16384"), outside);
        byte[] archive = tar(Map.of("base/5/INCREMENTAL.16384", incremental(2, 0, 9)));
        assertThatThrownBy(() -> apply(work.resolve("root"), archive, false, null))
                .hasMessageContaining("not a regular file");
        assertThat(Files.readAllBytes(outside)).isEqualTo(blocks(1, 1));
    }
}
