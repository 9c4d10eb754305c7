import io.pgbackup.core.storage.Compression;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;

/**
 * Compresses one real file (a pg_basebackup tar) with every {@link Compression} and with the
 * parallel gzip at several levels, threads and block sizes, so that the defaults are measured.
 * Each configuration runs {@code --runs} times and reports the median wall time; the output of the
 * last run is decompressed through {@link Compression#decompress} and checked against the input's
 * CRC-32, so a wrong stream cannot produce a good-looking row.
 *
 * <p>With {@code --inputs-dir} every file there (WAL segments) is compressed as a stream of its
 * own, as the archiver does, and times and sizes are per file. Small inputs get one untimed
 * warm-up pass, so that the JIT is not what is measured.
 *
 * <p>Run by bench/run.sh as a single-file program on the built pgbackup-core jar:
 * {@code java -cp CLASSPATH bench/CompressionBench.java (--input FILE | --inputs-dir DIR) --work DIR
 * [--runs 3] [--threads N] [--levels 1,2,3,4,5,6] [--block-sizes 131072,524288,1048576] [--json FILE]}.
 * Prints a table; writes one JSON array of rows to {@code --json}.
 */
public final class CompressionBench {
    private static final int IO_BUFFER = 1 << 20;

    interface Writer {
        OutputStream open(OutputStream raw) throws IOException;
    }

    record Config(String name, Compression readAs, int level, int threads, int blockSize, Writer writer) {
    }

    record Row(Config config, double seconds, long bytes, double decompressSeconds, long peakRssKb) {
    }

    /** ParallelGzipOutputStream's block size (it is package-private in core's storage package). */
    static final int DEFAULT_BLOCK_SIZE = 512 * 1024;

    /** Parallel gzip with another block size: only the bench needs that, so it opens the constructor itself. */
    static OutputStream parallelGzip(OutputStream raw, int level, int threads, int blockSize) throws IOException {
        try {
            var constructor = Class.forName("io.pgbackup.core.storage.ParallelGzipOutputStream")
                    .getDeclaredConstructor(OutputStream.class, int.class, int.class, int.class);
            constructor.setAccessible(true);
            return (OutputStream) constructor.newInstance(raw, level, threads, blockSize);
        } catch (ReflectiveOperationException e) {
            throw new IOException("cannot open ParallelGzipOutputStream: " + e, e);
        }
    }

    public static void main(String[] args) throws Exception {
        List<Path> inputs = new ArrayList<>();
        Path work = Path.of(System.getProperty("java.io.tmpdir"));
        Path json = null;
        int runs = 3;
        int threads = Runtime.getRuntime().availableProcessors();
        int[] levels = {1, 2, 3, 4, 5, 6};
        int[] blockSizes = {DEFAULT_BLOCK_SIZE};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--input" -> inputs.add(Path.of(args[++i]));
                case "--inputs-dir" -> {
                    try (var files = Files.list(Path.of(args[++i]))) {
                        files.filter(Files::isRegularFile).sorted().forEach(inputs::add);
                    }
                }
                case "--work" -> work = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--levels" -> levels = ints(args[++i]);
                case "--block-sizes" -> blockSizes = ints(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("--input FILE or --inputs-dir DIR (not empty) is required");
        }

        List<Config> configs = new ArrayList<>();
        configs.add(new Config("none (copy)", Compression.NONE, 0, 1, 0, raw -> raw));
        // The JDK's own single-threaded gzip at gzip's default level: what a naive Java port would do.
        configs.add(new Config("jdk GZIPOutputStream", Compression.GZIP, 6, 1, 0, raw -> new GZIPOutputStream(raw, 64 * 1024)));
        for (int level : levels) {
            int l = level;
            int t = threads;
            configs.add(new Config("parallel gzip", Compression.GZIP, l, t, DEFAULT_BLOCK_SIZE,
                    raw -> Compression.GZIP.compress(raw, l, t)));
        }
        int dl = Compression.GZIP.defaultLevel();
        if (threads != 1) {
            configs.add(new Config("parallel gzip", Compression.GZIP, dl, 1, DEFAULT_BLOCK_SIZE,
                    raw -> Compression.GZIP.compress(raw, dl, 1)));
        }
        for (int blockSize : blockSizes) {
            if (blockSize != DEFAULT_BLOCK_SIZE) {
                int t = threads;
                configs.add(new Config("parallel gzip", Compression.GZIP, dl, t, blockSize,
                        raw -> parallelGzip(raw, dl, t, blockSize)));
            }
        }
        for (Compression c : List.of(Compression.ZSTD, Compression.LZ4)) {
            int t = threads;
            configs.add(new Config(c.cliName(), c, c.defaultLevel(), c == Compression.LZ4 ? 1 : t, 0,
                    raw -> c.compress(raw, c.defaultLevel(), t)));
        }
        configs.add(new Config("Compression.DEFAULT", Compression.DEFAULT, Compression.DEFAULT.defaultLevel(),
                Compression.defaultThreads(), 0, raw -> Compression.DEFAULT.compress(raw)));

        int files = inputs.size();
        long totalIn = 0;
        long[] inputCrcs = new long[files];
        List<Path> outs = new ArrayList<>();
        for (int f = 0; f < files; f++) {
            totalIn += Files.size(inputs.get(f));
            inputCrcs[f] = crcOf(Files.newInputStream(inputs.get(f)));
            outs.add(work.resolve("compression-bench." + f + ".out"));
        }
        // Sizes and times are per input file: one base tar, or one WAL segment.
        long inputSize = totalIn / files;
        boolean warmUp = totalIn < 256L * 1024 * 1024;
        List<Row> rows = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%s: %d file(s) of %.1f MiB%s, %d runs each, median; %d processors%n",
                files == 1 ? inputs.get(0) : inputs.get(0).getParent(), files, inputSize / 1048576.0,
                files == 1 ? "" : " (figures per file)", runs, Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-22s %5s %7s %7s %9s %11s %7s %8s %8s %9s%n",
                "codec", "level", "threads", "block", "seconds", "bytes", "ratio", "MiB/s", "dec s", "rss MiB");
        for (Config config : configs) {
            double[] times = new double[runs];
            long bytes = 0;
            long peakKb = 0;
            if (warmUp) {
                compressAll(config, inputs, outs);
            }
            for (int r = 0; r < runs; r++) {
                resetPeakRss();
                long start = System.nanoTime();
                bytes = compressAll(config, inputs, outs) / files;
                times[r] = (System.nanoTime() - start) / 1e9 / files;
                peakKb = Math.max(peakKb, peakRssKb());
            }
            Arrays.sort(times);
            long start = System.nanoTime();
            for (int f = 0; f < files; f++) {
                if (crcOf(config.readAs.decompress(Files.newInputStream(outs.get(f)))) != inputCrcs[f]) {
                    throw new IllegalStateException(config + ": decompressed content differs from " + inputs.get(f));
                }
            }
            double decompress = (System.nanoTime() - start) / 1e9 / files;
            Row row = new Row(config, times[runs / 2], bytes, decompress, peakKb);
            rows.add(row);
            System.out.printf(Locale.ROOT, "%-22s %5s %7d %7s %9.3f %11d %7.2f %8.1f %8.3f %9.1f%n",
                    config.name, config.readAs == Compression.NONE ? "-" : String.valueOf(config.level), config.threads,
                    config.blockSize == 0 ? "-" : config.blockSize / 1024 + "K", row.seconds, bytes,
                    (double) inputSize / bytes, inputSize / 1048576.0 / row.seconds, decompress, peakKb / 1024.0);
        }
        for (Path out : outs) {
            Files.deleteIfExists(out);
        }
        if (json != null) {
            StringBuilder sb = new StringBuilder("[");
            for (Row row : rows) {
                Config c = row.config;
                if (sb.length() > 1) {
                    sb.append(',');
                }
                sb.append(String.format(Locale.ROOT,
                        "{\"codec\":\"%s\",\"format\":\"%s\",\"level\":%d,\"threads\":%d,\"block_size\":%s,"
                                + "\"seconds\":%.3f,\"bytes\":%d,\"ratio\":%.3f,\"decompress_seconds\":%.3f,\"peak_rss_kb\":%s}",
                        c.name, c.readAs.cliName(), c.level, c.threads, c.blockSize == 0 ? "null" : c.blockSize,
                        row.seconds, row.bytes, (double) inputSize / row.bytes, row.decompressSeconds,
                        row.peakRssKb == 0 ? "null" : row.peakRssKb));
            }
            Files.writeString(json, sb.append(']').toString());
        }
    }

    /** Compresses each input into its own output, each a stream of its own; returns the bytes written. */
    private static long compressAll(Config config, List<Path> inputs, List<Path> outs) throws IOException {
        long bytes = 0;
        for (int f = 0; f < inputs.size(); f++) {
            try (InputStream in = Files.newInputStream(inputs.get(f));
                 OutputStream file = new BufferedOutputStream(Files.newOutputStream(outs.get(f)), IO_BUFFER);
                 OutputStream z = config.writer.open(file)) {
                in.transferTo(z);
            }
            bytes += Files.size(outs.get(f));
        }
        return bytes;
    }

    private static long crcOf(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[IO_BUFFER];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                crc.update(buf, 0, n);
            }
        }
        return crc.getValue();
    }

    /** Linux resets VmHWM when "5" is written to clear_refs; elsewhere the peak is the process's. */
    private static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | UnsupportedOperationException e) {
            // Not Linux, or not allowed: the reported peak is then the whole JVM's so far.
        }
    }

    private static long peakRssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException e) {
            // Not Linux: no RSS column.
        }
        return 0;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }
}
