package io.pgbackup.core.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class FollowingFileInputStreamTest {
    @TempDir
    Path dir;

    @Test
    void readsEverythingAnAppendingWriterWroteIncludingWhatCameAfterTheReaderCaughtUp() throws Exception {
        Path file = dir.resolve("base.tar");
        byte[] data = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(data);
        int half = data.length / 2;
        CountDownLatch finished = new CountDownLatch(1);
        CountDownLatch readerWaiting = new CountDownLatch(1);
        CountDownLatch readerCaughtUp = new CountDownLatch(1);
        Thread writer = new Thread(() -> {
            try (OutputStream out = awaitThenOpen(readerWaiting, file)) {
                out.write(data, 0, half);
                out.flush();
                // The rest only once the reader has read everything so far and must wait for more.
                if (!readerCaughtUp.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the reader never caught up");
                }
                out.write(data, half, data.length - half);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                finished.countDown();
            }
        });
        writer.start();
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        try (FollowingFileInputStream in = new FollowingFileInputStream(file,
                wait -> finished.await(wait.toNanos(), TimeUnit.NANOSECONDS))) {
            readerWaiting.countDown(); // the file does not exist yet: the reader has to wait for it
            copy.write(in.readNBytes(half));
            readerCaughtUp.countDown();
            in.transferTo(copy);
            assertThat(in.position()).isEqualTo(data.length);
            assertThat(in.opened()).isTrue();
        }
        writer.join();
        assertThat(copy.toByteArray()).isEqualTo(data);
    }

    private static OutputStream awaitThenOpen(CountDownLatch latch, Path file) throws Exception {
        if (!latch.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the reader never started");
        }
        return Files.newOutputStream(file);
    }

    @Test
    void endsWhenTheWriterEndedWithoutEverCreatingTheFile() throws Exception {
        try (FollowingFileInputStream in = new FollowingFileInputStream(dir.resolve("never"), wait -> true)) {
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.opened()).isFalse();
            assertThat(in.position()).isZero();
        }
    }
}
