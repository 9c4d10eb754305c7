package io.pgbackup.core.internal.process;

import io.pgbackup.core.process.ProcessRunner.ProcessResult;

import io.pgbackup.core.process.ProcessRunner.RunningProcess;

import io.pgbackup.core.process.ProcessRunner;

import io.pgbackup.core.process.ProcessRunner.ProcessSpec;

import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.Executor;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.LogOutputStream;
import org.apache.commons.exec.PumpStreamHandler;
import org.apache.commons.exec.ShutdownHookProcessDestroyer;
import org.apache.commons.exec.environment.EnvironmentUtils;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@link ProcessRunner} on Apache Commons Exec: arguments are passed as-is, never through a shell. */
public final class CommonsExecProcessRunner implements ProcessRunner {
    /** Captured output is cut beyond this, so a chatty program cannot exhaust memory. */
    private static final int CAPTURE_LIMIT = 1 << 20;

    /** Children die with the JVM (Ctrl-C, SIGTERM), so an interrupted backup leaves no pg_basebackup behind. */
    private final ShutdownHookProcessDestroyer destroyer = new ShutdownHookProcessDestroyer();

    @Override
    public ProcessResult run(ProcessSpec spec) throws IOException {
        try {
            return start(spec).await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + spec.programName(), e);
        }
    }

    @Override
    public RunningProcess start(ProcessSpec spec) throws IOException {
        CommandLine line = new CommandLine(spec.command().get(0));
        for (String arg : spec.command().subList(1, spec.command().size())) {
            line.addArgument(arg, false);
        }
        BoundedBuffer stdout = new BoundedBuffer();
        BoundedBuffer stderr = new BoundedBuffer();
        OutputStream stdoutTarget = spec.stdoutSink() != null ? spec.stdoutSink() : stdout;
        OutputStream stderrTarget = spec.stderrListener() == null ? stderr : new LineTee(stderr, spec);

        DefaultExecutor.Builder<?> builder = DefaultExecutor.builder();
        if (spec.workingDirectory() != null) {
            builder.setWorkingDirectory(spec.workingDirectory().toFile());
        }
        DefaultExecutor executor = builder.get();
        executor.setExitValues(null);
        executor.setProcessDestroyer(destroyer);
        executor.setStreamHandler(new PumpStreamHandler(stdoutTarget, stderrTarget));
        // A watchdog also when there is no timeout: it is the handle that can stop the program.
        ExecuteWatchdog watchdog = ExecuteWatchdog.builder()
                .setTimeout(spec.timeout() != null ? spec.timeout() : ExecuteWatchdog.INFINITE_TIMEOUT_DURATION).get();
        executor.setWatchdog(watchdog);
        Map<String, String> environment = EnvironmentUtils.getProcEnvironment();
        environment.putAll(spec.environment());
        // The latch lets callers wait for the end itself (DefaultExecuteResultHandler.waitFor polls).
        CountDownLatch ended = new CountDownLatch(1);
        DefaultExecuteResultHandler handler = new DefaultExecuteResultHandler() {
            @Override
            public void onProcessComplete(int exitValue) {
                super.onProcessComplete(exitValue);
                ended.countDown();
            }

            @Override
            public void onProcessFailed(ExecuteException e) {
                super.onProcessFailed(e);
                ended.countDown();
            }
        };
        executor.execute(line, environment, handler);
        return new RunningProcess() {
            @Override
            public ProcessResult await() throws IOException, InterruptedException {
                ended.await();
                if (handler.getException() != null && handler.getExitValue() == Executor.INVALID_EXITVALUE) {
                    // Every exit value is accepted, so an exception without one means it never started.
                    throw new IOException("cannot run " + spec.programName() + ": " + handler.getException().getMessage(),
                            handler.getException());
                }
                stderrTarget.flush();
                boolean timedOut = spec.timeout() != null && watchdog.killedProcess();
                return new ProcessResult(handler.getExitValue(), stdout.text(), stderr.text(), timedOut);
            }

            @Override
            public boolean awaitEnd(Duration wait) throws InterruptedException {
                return ended.await(wait.toNanos(), TimeUnit.NANOSECONDS);
            }

            @Override
            public void destroy() {
                watchdog.destroyProcess();
            }
        };
    }

    private static final class BoundedBuffer extends ByteArrayOutputStream {
        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int room = CAPTURE_LIMIT - count;
            if (room > 0) {
                super.write(b, off, Math.min(room, len));
            }
        }

        @Override
        public synchronized void write(int b) {
            if (count < CAPTURE_LIMIT) {
                super.write(b);
            }
        }

        String text() {
            return toString(StandardCharsets.UTF_8);
        }
    }

    /** Captures standard error and hands each line (CR or LF ended, as progress output uses) to the listener. */
    private static final class LineTee extends LogOutputStream {
        private final OutputStream capture;
        private final ProcessSpec spec;

        LineTee(OutputStream capture, ProcessSpec spec) {
            this.capture = capture;
            this.spec = spec;
        }

        @Override
        public void write(int b) throws IOException {
            capture.write(b);
            super.write(b == '\r' ? '\n' : b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                write(b[i]);
            }
        }

        @Override
        protected void processLine(String line, int level) {
            spec.stderrListener().accept(line);
        }
    }
}
