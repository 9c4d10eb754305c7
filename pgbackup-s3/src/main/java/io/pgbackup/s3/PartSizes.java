package io.pgbackup.s3;

/**
 * The part sizes of a streaming multipart upload, whose total size is unknown when it starts.
 * S3 allows at most 10,000 parts of 5 MiB to 5 GiB (the last may be smaller) and objects up to
 * 5 TiB; parts start at 8 MiB, so the usual object is a few cheap parts and little memory, and
 * double every 1,000 parts so that 10,000 parts still reach past 5 TiB (about 7.8 TiB).
 */
final class PartSizes {
    static final long MIB = 1024L * 1024;
    static final long FIRST_PART = 8 * MIB;
    static final int PARTS_PER_STEP = 1000;
    static final int MAX_PARTS = 10_000;
    static final long MIN_PART = 5 * MIB;
    static final long MAX_PART = 5 * 1024 * MIB;
    static final long MAX_OBJECT = 5L * 1024 * 1024 * MIB;
    /** What one writer's part buffers may hold at once, when the part size allows it (see {@link #maxInFlight}). */
    static final long MEMORY_BUDGET = 64 * MIB;
    /** Parts uploaded at once by one writer: two keep the link busy while the next part fills. */
    static final int MAX_CONCURRENT_UPLOADS = 2;

    private PartSizes() {
    }

    /** The size of part {@code partNumber} (1-based) when it is not the last one. */
    static long partSize(int partNumber) {
        if (partNumber < 1 || partNumber > MAX_PARTS) {
            throw new IllegalArgumentException("part number must be 1.." + MAX_PARTS + ", not " + partNumber);
        }
        int doublings = (partNumber - 1) / PARTS_PER_STEP;
        return Math.min(FIRST_PART << doublings, MAX_PART);
    }

    /** The largest object {@code parts} full parts hold. */
    static long capacity(int parts) {
        long total = 0;
        for (int n = 1; n <= parts; n++) {
            total += partSize(n);
        }
        return total;
    }

    /**
     * How many parts of {@code partSize} may be uploading while the writer fills the next one:
     * up to {@link #MAX_CONCURRENT_UPLOADS} while the buffers fit in {@link #MEMORY_BUDGET}, fewer
     * as parts grow, and 0 (upload before filling on) once a single part reaches the budget, so a
     * writer never holds more than {@code max(MEMORY_BUDGET, partSize)}.
     */
    static int maxInFlight(long partSize) {
        long buffers = Math.max(1, MEMORY_BUDGET / partSize);
        return (int) Math.min(MAX_CONCURRENT_UPLOADS, buffers - 1);
    }
}
