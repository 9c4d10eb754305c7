package io.pgbackup.core.internal.verify;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** verify's reading of INCREMENTAL entries: every block left to older backups must be within the parent's file. */
class IncrementalEntriesTest {
    private static final int B = 8192;

    /** Header (magic, count, truncation length, block numbers), padding, then zero blocks. */
    private static byte[] incremental(int truncation, int... blocks) {
        long header = 12 + 4L * blocks.length;
        long padded = blocks.length == 0 ? header : (header + B - 1) / B * B;
        ByteBuffer out = ByteBuffer.allocate((int) (padded + (long) blocks.length * B)).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0xd3ae1f0d).putInt(blocks.length).putInt(truncation);
        for (int b : blocks) {
            out.putInt(b);
        }
        return out.array();
    }

    private static String check(Map<String, Long> parent, byte[] entry) throws Exception {
        return new IncrementalEntries(() -> parent).check("base/5/INCREMENTAL.16384", "base/5/16384", entry.length,
                new ByteArrayInputStream(entry), new byte[B]);
    }

    @Test
    void blocksLeftToOlderBackupsMustBeWithinTheParentsFile() throws Exception {
        Map<String, Long> parent = Map.of("base/5/16384", 4L * B);
        assertThat(check(parent, incremental(4, 1))).isNull();            // blocks 0, 2, 3 from the parent's 4
        assertThat(check(parent, incremental(6, 4, 5))).isNull();         // grown: the new blocks are here
        assertThat(check(parent, incremental(6, 5)))                       // block 4 is in no backup
                .isEqualTo("base/5/INCREMENTAL.16384 takes block 4 of base/5/16384 from older backups, but the parent holds 4 blocks of it");
        assertThat(check(Map.of(), incremental(2, 0, 1))).isNull();        // new since the parent, whole
        assertThat(check(Map.of(), incremental(2, 1))).contains("the parent holds 0 blocks");
        byte[] forged = incremental(2, 1);
        forged[7] = 0x7f; // an absurd block count (0x7f000001)
        assertThat(check(parent, forged)).contains("more than a segment holds");
    }
}
