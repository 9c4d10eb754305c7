package io.pgbackup.core.storage;

import io.pgbackup.core.storage.ExternalTools;


import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static io.pgbackup.core.storage.ExternalTools.assumeInstalled;
import static io.pgbackup.core.storage.ExternalTools.compressible;
import static io.pgbackup.core.storage.ExternalTools.random;
import static io.pgbackup.core.storage.ExternalTools.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParallelGzipOutputStreamTest {
    /** The smallest block size, so that "many blocks" stays cheap. */
    private static final int BLOCK = ParallelGzipOutputStream.DICTIONARY_SIZE;

    @TempDir
    Path dir;

    static Stream<Arguments> sizes() {
        return Stream.of(0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, 37 * BLOCK + 123)
                .flatMap(size -> Stream.of(Arguments.of(size, true), Arguments.of(size, false)));
    }

    @ParameterizedTest(name = "{0} bytes, compressible={1}")
    @MethodSource("sizes")
    void roundTripsThroughJdkAndCommonsCompress(int size, boolean compressible) throws IOException {
        byte[] data = compressible ? compressible(size, size) : random(size, size);
        for (int threads : new int[] {1, 2, 4}) {
            byte[] gz = gzip(data, 4, threads, BLOCK);
            assertThat(gunzipJdk(gz)).as("JDK, %d threads", threads).isEqualTo(data);
            // commons-compress reads only the first member unless told otherwise: proves a single member.
            try (InputStream in = new GzipCompressorInputStream(new ByteArrayInputStream(gz), false)) {
                assertThat(in.readAllBytes()).as("commons-compress, %d threads", threads).isEqualTo(data);
            }
        }
    }

    @Test
    void outputDoesNotDependOnThreadCountAndCompressesLikeZlib() throws IOException {
        byte[] data = compressible(3_000_000, 7);
        byte[] one = gzip(data, 6, 1, 256 * 1024);
        assertThat(gzip(data, 6, 2, 256 * 1024)).isEqualTo(one);
        assertThat(gzip(data, 6, 3, 256 * 1024)).isEqualTo(one);
        // The preset dictionary keeps cross-block matches: within 1% of one unbroken deflate stream.
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(plain)) {
            out.write(data);
        }
        assertThat((double) one.length).isLessThan(plain.size() * 1.01);
    }

    @Test
    void singleByteAndSliceWritesMix() throws IOException {
        byte[] data = compressible(5 * BLOCK + 17, 3);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (ParallelGzipOutputStream out = new ParallelGzipOutputStream(sink, 1, 2, BLOCK)) {
            int at = 0;
            int step = 1;
            while (at < data.length) {
                if (step % 3 == 0) {
                    out.write(data[at++]);
                } else {
                    int n = Math.min(step * 997, data.length - at);
                    out.write(data, at, n);
                    at += n;
                }
                step++;
            }
        }
        assertThat(gunzipJdk(sink.toByteArray())).isEqualTo(data);
    }

    @Test
    void realGzipAcceptsAndDecompressesTheOutput() throws Exception {
        assumeInstalled("gzip");
        for (int size : new int[] {0, 1, 3 * 1024 * 1024 + 5}) {
            byte[] data = size > 1 ? compressible(size, size) : random(size, size);
            Path gz = dir.resolve("data-" + size + ".gz");
            Files.write(gz, gzip(data, 4, 2, BLOCK));
            assertThat(run(List.of("gzip", "-t", gz.toString()), null, dir.resolve("t.out"))).isZero();
            Path plain = dir.resolve("data-" + size);
            assertThat(run(List.of("gzip", "-dc"), gz, plain)).isZero();
            assertThat(Files.readAllBytes(plain)).isEqualTo(data);
        }
    }

    @Test
    void realTarExtractsAGzippedTarball() throws Exception {
        assumeInstalled("tar");
        assumeInstalled("gzip");
        byte[] big = compressible(2 * 1024 * 1024 + 3, 11);
        byte[] noise = random(700_001, 12);
        Path tgz = dir.resolve("base.tar.gz");
        try (OutputStream file = Files.newOutputStream(tgz);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(new ParallelGzipOutputStream(file, 2, 2, BLOCK))) {
            for (var entry : List.of(new Object[] {"PG_VERSION", "15\n".getBytes()}, new Object[] {"base/1/1259", big},
                    new Object[] {"global/pg_control", noise})) {
                byte[] content = (byte[]) entry[1];
                TarArchiveEntry e = new TarArchiveEntry((String) entry[0]);
                e.setSize(content.length);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        Path out = Files.createDirectory(dir.resolve("extracted"));
        assertThat(run(List.of("tar", "-xzf", tgz.toString(), "-C", out.toString()), null, dir.resolve("tar.out"))).isZero();
        assertThat(Files.readString(out.resolve("PG_VERSION"))).isEqualTo("15\n");
        assertThat(Files.readAllBytes(out.resolve("base/1/1259"))).isEqualTo(big);
        assertThat(Files.readAllBytes(out.resolve("global/pg_control"))).isEqualTo(noise);
    }

    @Test
    void finishLeavesTheUnderlyingStreamOpenForAnotherMember() throws IOException {
        byte[] first = compressible(3 * BLOCK + 1, 1);
        byte[] second = random(BLOCK / 2, 2);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        ParallelGzipOutputStream a = new ParallelGzipOutputStream(sink, 4, 2, BLOCK);
        a.write(first);
        a.finish();
        assertThatThrownBy(() -> a.write(1)).isInstanceOf(IOException.class).hasMessageContaining("finished");
        try (ParallelGzipOutputStream b = new ParallelGzipOutputStream(sink, 4, 2, BLOCK)) {
            b.write(second);
        }
        a.close();
        byte[] expected = new byte[first.length + second.length];
        System.arraycopy(first, 0, expected, 0, first.length);
        System.arraycopy(second, 0, expected, first.length, second.length);
        assertThat(gunzipJdk(sink.toByteArray())).isEqualTo(expected);
    }

    @Test
    void closeIsIdempotentAndLaterWritesFail() throws IOException, InterruptedException {
        Path file = dir.resolve("x.gz");
        ParallelGzipOutputStream out = new ParallelGzipOutputStream(Files.newOutputStream(file), 4, 2, BLOCK);
        out.write(compressible(10 * BLOCK, 5));
        out.close();
        long size = Files.size(file);
        out.close();
        assertThat(Files.size(file)).isEqualTo(size);
        assertThatThrownBy(() -> out.write(new byte[10])).isInstanceOf(IOException.class).hasMessageContaining("closed");
        assertThatThrownBy(out::flush).isInstanceOf(IOException.class);
        assertThat(gunzipJdk(Files.readAllBytes(file))).hasSize(10 * BLOCK);
        assertNoWorkerThreadsLeft();
    }

    @Test
    void aFailingDiskSurfacesAsIOExceptionAndStopsTheWorkers() throws IOException, InterruptedException {
        Path full = Path.of("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "/dev/full is needed to simulate a full disk");
        // The buffer delays the failure until several blocks are in flight on the workers.
        ParallelGzipOutputStream out = new ParallelGzipOutputStream(
                new BufferedOutputStream(Files.newOutputStream(full), 64 * 1024), 1, 2, BLOCK);
        byte[] chunk = random(BLOCK, 9);
        IOException failure = null;
        for (int i = 0; i < 1000 && failure == null; i++) {
            try {
                out.write(chunk);
            } catch (IOException e) {
                failure = e;
            }
        }
        assertThat(failure).as("writing 32 MiB to /dev/full must fail").isNotNull();
        assertThat(failure).hasMessageContaining("No space left on device");
        assertThatThrownBy(() -> out.write(chunk)).isInstanceOf(IOException.class).hasMessageContaining("earlier write failed");
        assertThatThrownBy(out::close).isInstanceOf(IOException.class);
        out.close();
        assertNoWorkerThreadsLeft();
    }

    @Test
    void rejectsBadSettings() {
        OutputStream sink = new ByteArrayOutputStream();
        assertThatThrownBy(() -> new ParallelGzipOutputStream(sink, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ParallelGzipOutputStream(sink, 10, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ParallelGzipOutputStream(sink, 4, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ParallelGzipOutputStream(sink, 4, 1, BLOCK - 1)).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] gzip(byte[] data, int level, int threads, int blockSize) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (OutputStream out = new ParallelGzipOutputStream(sink, level, threads, blockSize)) {
            out.write(data);
        }
        return sink.toByteArray();
    }

    private static byte[] gunzipJdk(byte[] gz) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    /** Every stream of this class was closed: its pool must be gone, not parked. */
    private static void assertNoWorkerThreadsLeft() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("pgbackup-gzip-")) {
                t.join(10_000);
                assertThat(t.isAlive()).as("%s still running", t.getName()).isFalse();
            }
        }
    }
}
