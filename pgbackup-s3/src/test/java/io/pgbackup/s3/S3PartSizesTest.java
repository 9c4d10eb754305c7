package io.pgbackup.s3;

import org.junit.jupiter.api.Test;

import static io.pgbackup.s3.PartSizes.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3PartSizesTest {
    @Test
    void partsStartAt8MibAndDoubleEveryThousand() {
        assertThat(PartSizes.partSize(1)).isEqualTo(8 * MIB);
        assertThat(PartSizes.partSize(1000)).isEqualTo(8 * MIB);
        assertThat(PartSizes.partSize(1001)).isEqualTo(16 * MIB);
        assertThat(PartSizes.partSize(2001)).isEqualTo(32 * MIB);
        assertThat(PartSizes.partSize(10_000)).isEqualTo(4096 * MIB);
    }

    @Test
    void fiveTebibytesFitInTenThousandPartsThatS3Accepts() {
        assertThat(PartSizes.capacity(PartSizes.MAX_PARTS)).isGreaterThanOrEqualTo(PartSizes.MAX_OBJECT);
        for (int n = 1; n <= PartSizes.MAX_PARTS; n++) {
            assertThat(PartSizes.partSize(n)).isBetween(PartSizes.MIN_PART, PartSizes.MAX_PART);
        }
        assertThatThrownBy(() -> PartSizes.partSize(10_001)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PartSizes.partSize(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aWriterHoldsAtMostTheBudgetOrOnePart() {
        assertThat(PartSizes.maxInFlight(8 * MIB)).isEqualTo(2);
        assertThat(PartSizes.maxInFlight(16 * MIB)).isEqualTo(2);
        assertThat(PartSizes.maxInFlight(32 * MIB)).isEqualTo(1);
        assertThat(PartSizes.maxInFlight(64 * MIB)).isZero();
        for (int n = 1; n <= PartSizes.MAX_PARTS; n += 500) {
            long size = PartSizes.partSize(n);
            // Parts uploading plus the one filling.
            assertThat((PartSizes.maxInFlight(size) + 1) * size).isLessThanOrEqualTo(Math.max(PartSizes.MEMORY_BUDGET, size));
        }
    }
}
