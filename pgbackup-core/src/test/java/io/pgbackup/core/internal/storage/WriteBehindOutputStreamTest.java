package io.pgbackup.core.internal.storage;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The sealing hand-off: every byte arrives in order, failures reach the writer, a discarded object is never finished. */
class WriteBehindOutputStreamTest {

    private static class Target extends ByteArrayOutputStream {
        final AtomicBoolean closed = new AtomicBoolean();
        final Thread caller = Thread.currentThread();
        volatile boolean writtenOnCaller;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writtenOnCaller |= Thread.currentThread() == caller;
            super.write(b, off, len);
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    @Test
    void deliversEveryByteInOrderOnItsOwnThreadAndClosesTheTargetBeforeCloseReturns() throws Exception {
        byte[] data = new byte[5 * 1024 * 1024 + 17];
        new Random(7).nextBytes(data);
        Target target = new Target();
        WriteBehindOutputStream out = new WriteBehindOutputStream(target, 64 * 1024, 4, "test");
        Random sizes = new Random(3);
        for (int off = 0; off < data.length; ) {
            int n = Math.min(data.length - off, 1 + sizes.nextInt(200_000));
            out.write(data, off, n);
            off += n;
        }
        out.write(42);
        out.close();
        byte[] expected = java.util.Arrays.copyOf(data, data.length + 1);
        expected[data.length] = 42;
        assertThat(target.toByteArray()).isEqualTo(expected);
        assertThat(target.closed).isTrue();
        assertThat(target.writtenOnCaller).isFalse();
        assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    }

    @Test
    void aFailureOfTheTargetReachesTheWriterAndIsThrownByClose() throws Exception {
        OutputStream failing = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        WriteBehindOutputStream out = new WriteBehindOutputStream(failing, 1024, 2, "test");
        // Far more than the queue holds: a writer must not wait forever on a target that takes nothing more.
        assertThatThrownBy(() -> {
            for (int i = 0; i < 10_000; i++) {
                out.write(new byte[1024]);
            }
            out.close();
        }).isInstanceOf(IOException.class).hasMessageContaining("No space left on device");
    }

    @Test
    void anAbandonedStreamStopsWithoutClosingTheTargetAndWritesNothingAfterwards() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Target target = new Target() {
            @Override
            public synchronized void write(byte[] b, int off, int len) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                super.write(b, off, len);
            }
        };
        WriteBehindOutputStream out = new WriteBehindOutputStream(target, 16, 2, "test");
        out.write(new byte[16]);
        entered.await();
        out.write(new byte[32]); // queued behind the chunk the target is writing
        Thread abandoning = new Thread(out::abandon);
        abandoning.start();
        // Waiting in join(): it has already dropped the queued chunk and told the writer to stop.
        while (abandoning.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
        release.countDown();
        abandoning.join();
        // abandon() returned only once the writer thread had stopped: the chunk in hand, nothing queued.
        assertThat(target.size()).isEqualTo(16);
        assertThat(target.closed).isFalse();
        assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    }
}
