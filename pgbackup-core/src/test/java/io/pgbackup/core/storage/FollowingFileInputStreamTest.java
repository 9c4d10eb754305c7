package io.pgbackup.core.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class FollowingFileInputStreamTest {
    @TempDir
    Path dir;

    @Test
    void readsEverythingAnAppendingWriterWroteIncludingWhatCameAfterTheReaderCaughtUp() throws Exception {
        Path file = dir.resolve("base.tar");
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(data);
        AtomicBoolean finished = new AtomicBoolean();
        CountDownLatch readerWaiting = new CountDownLatch(1);
        Thread writer = new Thread(() -> {
            try {
                readerWaiting.await();
                try (OutputStream out = Files.newOutputStream(file)) {
                    for (int off = 0; off < data.length; off += 100_000) {
                        out.write(data, off, Math.min(100_000, data.length - off));
                        out.flush();
                        Thread.sleep(1);
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                finished.set(true);
            }
        });
        writer.start();
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        try (FollowingFileInputStream in = new FollowingFileInputStream(file, finished::get)) {
            readerWaiting.countDown(); // the file does not exist yet: the reader has to wait for it
            in.transferTo(copy);
            assertThat(in.position()).isEqualTo(data.length);
            assertThat(in.opened()).isTrue();
        }
        writer.join();
        assertThat(copy.toByteArray()).isEqualTo(data);
    }

    @Test
    void endsWhenTheWriterEndedWithoutEverCreatingTheFile() throws Exception {
        try (FollowingFileInputStream in = new FollowingFileInputStream(dir.resolve("never"), () -> true)) {
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.opened()).isFalse();
            assertThat(in.position()).isZero();
        }
    }
}
