package io.pgbackup.core.internal.concurrent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one place that creates thread pools: named daemon threads (a thread dump says whose they
 * are, and a forgotten pool never keeps the JVM alive), a fixed number of threads, and a
 * {@link Pool} that shuts down on {@link Pool#close()}.
 */
public final class Pools {
    private Pools() {
    }

    /** Daemon threads called {@code name-1}, {@code name-2}, ... */
    public static ThreadFactory daemonThreads(String name) {
        AtomicInteger n = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** {@code threads} named daemon threads with an unbounded task queue (callers bound what they submit). */
    public static Pool fixed(String name, int threads) {
        return new Pool(java.util.concurrent.Executors.newFixedThreadPool(Math.max(1, threads), daemonThreads(name)));
    }

    /** One named daemon thread. */
    public static Pool single(String name) {
        return fixed(name, 1);
    }

    /** {@code threads} named daemon threads that end after {@code keepAlive} idle (core threads too). */
    public static Pool fixedTimingOut(String name, int threads, long keepAlive, TimeUnit unit) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, keepAlive, unit, new LinkedBlockingQueue<>(),
                daemonThreads(name));
        pool.allowCoreThreadTimeOut(true);
        return new Pool(pool);
    }

    /** One named daemon thread for scheduled tasks; the caller shuts it down. */
    public static java.util.concurrent.ScheduledExecutorService scheduledSingle(String name) {
        return java.util.concurrent.Executors.newSingleThreadScheduledExecutor(daemonThreads(name));
    }

    /**
     * Runs {@code tasks} on {@code threads} named daemon threads and returns their results in order.
     * The first failure (in that order) is thrown as the task's IOException (see
     * {@link Futures#asIOException}); the tasks still running are then interrupted.
     */
    public static <T> List<T> runAll(String name, int threads, List<? extends Callable<T>> tasks)
            throws IOException {
        try (Pool pool = fixed(name, threads)) {
            List<Future<T>> running = new ArrayList<>(tasks.size());
            for (Callable<T> task : tasks) {
                running.add(pool.submit(task));
            }
            List<T> results = new ArrayList<>(tasks.size());
            for (Future<T> f : running) {
                results.add(f.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw Futures.asIOException(e);
        }
    }

    /** Starts {@code task} on a daemon thread of its own called {@code name}: one task beside the caller, no pool to close. */
    public static Thread start(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** An executor that is shut down (running tasks interrupted) when closed. */
    public static final class Pool implements AutoCloseable {
        private final ExecutorService executor;

        Pool(ExecutorService executor) {
            this.executor = executor;
        }

        public ExecutorService executor() {
            return executor;
        }

        public <T> Future<T> submit(Callable<T> task) {
            return executor.submit(task);
        }

        public Future<?> submit(Runnable task) {
            return executor.submit(task);
        }

        public void execute(Runnable task) {
            executor.execute(task);
        }

        /** Interrupts what runs and drops what waits. */
        @Override
        public void close() {
            executor.shutdownNow();
        }
    }
}
