package io.pgbackup.core.storage;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FrameInputStream;
import net.jpountz.lz4.LZ4FrameOutputStream;
import net.jpountz.xxhash.XXHashFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;

/**
 * The one place that knows how repository files are compressed: their file-name suffix and how to
 * read and write them. Backups, the WAL archive, restore, verify, retention and sync all ask here,
 * so a repository can hold files of several compressions at once.
 *
 * <p>Writers compress on several threads where the format allows ({@link #compress(OutputStream)}
 * uses every available processor); readers are single-threaded, as decompression is much cheaper.
 * Every format written carries a checksum of the content (gzip CRC-32, zstd and lz4 frame
 * checksums), so {@code verify} detects corruption by reading a file to its end.
 */
public enum Compression {
    /** Parallel gzip ({@link ParallelGzipOutputStream}): readable by plain gzip, tar and every library. */
    GZIP("gzip", ".gz", 1, 9, ParallelGzipOutputStream.DEFAULT_LEVEL),
    /** Zstandard frames (zstd-jni), multi-threaded with zstd's own workers. */
    ZSTD("zstd", ".zst", 1, 19, 3),
    /** LZ4 frames (lz4-java), as the {@code lz4} tool writes them; single-threaded, the fastest to write and read. */
    LZ4("lz4", ".lz4", 1, 12, 1),
    NONE("none", "", 0, 0, 0);

    /** What {@code backup} and the archive script use when nothing is configured. */
    public static final Compression DEFAULT = GZIP;

    /** Streams of zstd-jni and lz4-java cross into native code per call; tar writes and reads 512-byte records. */
    private static final int NATIVE_CALL_BUFFER = 64 * 1024;
    /** lz4's own default: HC from level 3 on, the fast compressor below (lz4 -1 and -2 are the same). */
    private static final int LZ4_FIRST_HC_LEVEL = 3;

    private final String cliName;
    private final String suffix;
    private final int minLevel;
    private final int maxLevel;
    private final int defaultLevel;

    Compression(String cliName, String suffix, int minLevel, int maxLevel, int defaultLevel) {
        this.cliName = cliName;
        this.suffix = suffix;
        this.minLevel = minLevel;
        this.maxLevel = maxLevel;
        this.defaultLevel = defaultLevel;
    }

    /** The name users type: {@code --compress gzip}, {@code PG_BACKUP_COMPRESS=gzip}. */
    public String cliName() {
        return cliName;
    }

    /** The file-name suffix including the dot, e.g. {@code .gz}; empty for {@link #NONE}. */
    public String suffix() {
        return suffix;
    }

    /** The level {@link #compress(OutputStream)} uses, chosen by measurement (bench/README.md); 0 for {@link #NONE}. */
    public int defaultLevel() {
        return defaultLevel;
    }

    /** The fastest level accepted by {@link #compress(OutputStream, int, int)}; 0 for {@link #NONE}. */
    public int minLevel() {
        return minLevel;
    }

    /** The smallest-output level accepted by {@link #compress(OutputStream, int, int)}; 0 for {@link #NONE}. */
    public int maxLevel() {
        return maxLevel;
    }

    /** Threads {@link #compress(OutputStream)} uses: one per available processor. */
    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /**
     * Wraps {@code raw} so that reading it yields the decompressed bytes. Concatenated gzip members,
     * zstd frames and lz4 frames are read as one stream, as their command-line tools do.
     * Closing the result closes {@code raw}.
     */
    public InputStream decompress(InputStream raw) throws IOException {
        return switch (this) {
            case GZIP -> new GZIPInputStream(raw, 64 * 1024);
            case ZSTD -> new BufferedInputStream(nativeCodec(() -> new ZstdInputStreamNoFinalizer(raw)), NATIVE_CALL_BUFFER);
            case LZ4 -> new BufferedInputStream(nativeCodec(() -> new LZ4FrameInputStream(raw)), NATIVE_CALL_BUFFER);
            case NONE -> raw;
        };
    }

    /**
     * Wraps {@code raw} so that bytes written to it are stored compressed, at {@link #defaultLevel()}
     * on {@link #defaultThreads()} threads. Closing the result finishes the format and closes {@code raw}.
     */
    public OutputStream compress(OutputStream raw) throws IOException {
        return compress(raw, defaultLevel, defaultThreads());
    }

    /**
     * Wraps {@code raw} so that bytes written to it are stored compressed.
     *
     * @param level   from {@link #minLevel()} (fastest) to {@link #maxLevel()} (smallest); ignored for {@link #NONE}
     * @param threads compressing threads, at least 1; lz4 always uses one
     * @throws IllegalArgumentException if {@code level} or {@code threads} is out of range
     */
    public OutputStream compress(OutputStream raw, int level, int threads) throws IOException {
        if (this != NONE && (level < minLevel || level > maxLevel)) {
            throw new IllegalArgumentException(cliName + " level must be " + minLevel + ".." + maxLevel + ", not " + level);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, not " + threads);
        }
        return switch (this) {
            case GZIP -> new ParallelGzipOutputStream(raw, level, threads);
            case ZSTD -> new BufferedOutputStream(nativeCodec(() -> zstd(raw, level, threads)), NATIVE_CALL_BUFFER);
            case LZ4 -> new BufferedOutputStream(nativeCodec(() -> lz4(raw, level)), NATIVE_CALL_BUFFER);
            case NONE -> raw;
        };
    }

    private static OutputStream zstd(OutputStream raw, int level, int threads) throws IOException {
        ZstdOutputStreamNoFinalizer out = new ZstdOutputStreamNoFinalizer(raw, level);
        try {
            out.setChecksum(true);
            // zstd's workers are threads of their own, beside the caller's; 0 compresses on the caller.
            out.setWorkers(threads == 1 ? 0 : threads);
        } catch (IOException | RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    private static OutputStream lz4(OutputStream raw, int level) throws IOException {
        LZ4Factory factory = LZ4Factory.fastestInstance();
        // The frame layout the lz4 tool writes by default: 4 MiB independent blocks, content checksum.
        return new LZ4FrameOutputStream(raw, LZ4FrameOutputStream.BLOCKSIZE.SIZE_4MB, -1L,
                level < LZ4_FIRST_HC_LEVEL ? factory.fastCompressor() : factory.highCompressor(level),
                XXHashFactory.fastestInstance().hash32(),
                LZ4FrameOutputStream.FLG.Bits.BLOCK_INDEPENDENCE, LZ4FrameOutputStream.FLG.Bits.CONTENT_CHECKSUM);
    }

    /** zstd-jni unpacks its native library to java.io.tmpdir; a noexec tmpdir makes that fail. */
    private <T> T nativeCodec(IoSupplier<T> open) throws IOException {
        try {
            return open.get();
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            throw new IOException(cliName + " is not available on this machine (its native library did not load; "
                    + "is java.io.tmpdir mounted noexec?): " + e, e);
        }
    }

    @FunctionalInterface
    private interface IoSupplier<T> {
        T get() throws IOException;
    }

    /**
     * The compression of a stored file, from its name: {@code base.tar.gz} is gzip,
     * {@code base.tar} none. {@code stem} is the name without compression suffix
     * ({@code base.tar}, or a WAL file name).
     */
    public static Optional<Compression> ofFile(String fileName, String stem) {
        for (Compression c : values()) {
            if (fileName.equals(stem + c.suffix)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Splits a stored file name into its stem and compression, longest suffix first. */
    public static Optional<Compression> ofSuffix(String fileName) {
        return Arrays.stream(values())
                .filter(c -> !c.suffix.isEmpty() && fileName.endsWith(c.suffix))
                .findFirst();
    }

    /** Parses a user-typed name; {@code source} names the flag or variable for the error line. */
    public static Compression parse(String source, String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (Compression c : values()) {
            if (c.cliName.equals(wanted)) {
                return c;
            }
        }
        throw new PgBackupException(ErrorCode.INVALID_CONFIG, source + "='" + value
                + "' is not a known compression: use one of "
                + Arrays.stream(values()).map(Compression::cliName).collect(Collectors.joining(", ")));
    }
}
