package io.pgbackup.core.internal.concurrent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pools.runAll: results in order, the task's own IOException on failure, the others interrupted. */
class PoolsTest {
    @Test
    void runAllReturnsResultsInTheTasksOrder() throws IOException {
        List<Callable<String>> tasks = List.of(() -> "a", () -> Thread.currentThread().getName().replaceAll("-\\d+$", ""), () -> "c");
        assertThat(Pools.runAll("pools-test", 2, tasks)).containsExactly("a", "pools-test", "c");
    }

    @Test
    void aFailureIsTheTasksOwnIOExceptionAndTheRestAreInterrupted() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        Callable<String> blocker = () -> {
            waiting.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
            return "never";
        };
        IOException planted = new IOException("disk gone");
        Callable<String> failing = () -> {
            waiting.await();
            throw planted;
        };
        assertThatThrownBy(() -> Pools.runAll("pools-test", 2, List.of(failing, blocker))).isSameAs(planted);
        assertThat(interrupted.await(1, TimeUnit.MINUTES)).as("the blocked task was interrupted").isTrue();

        Callable<String> unchecked = () -> {
            throw new UncheckedIOException(new IOException("wrapped"));
        };
        assertThatThrownBy(() -> Pools.runAll("pools-test", 1, List.of(unchecked))).isInstanceOf(IOException.class)
                .hasMessageContaining("wrapped");
    }
}
