package io.pgbackup.core.internal.archive;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Whether an archiver runs for a spool, decided by a lock that lives exactly as long as the
 * archiver's process, never by its pid: a pid left by an archiver killed outright (the OOM killer)
 * and reused by another process of the same user (a PostgreSQL backend) looks alive for ever, and
 * archive_wal.sh would then never start an archiver again.
 *
 * <p>The lock is a flock(2) lock on {@link ArchiveSpool#aliveFile()}, because that is what
 * archive_wal.sh can test on every call without a JVM ({@code flock -n}, util-linux). Java cannot
 * take one: {@code FileChannel.lock} takes fcntl (POSIX record) locks, which flock(2) does not see
 * on Linux. So the archiver holds it through a child, {@code flock -o -x FILE sh -c 'echo locked;
 * exec cat'}, whose stdin is a pipe only the archiver's JVM writes to (Java closes every other descriptor
 * in the children it starts): however the archiver ends, kill -9 included, the kernel closes the
 * pipe, cat reads end of file, and the lock goes with it.
 *
 * <p>The test ({@link #probe}, and archive_wal.sh's {@code archiver_pid}, which must stay the same)
 * is {@code flock -n -s -E 3 FILE true}: 3 held, 0 free. A shared try-lock held for an instant, which
 * a starting archiver simply waits out. A missing file is free (every archiver of this version
 * creates it before it writes its pid file); anything else (no flock installed, an unreadable file)
 * is unknown, and then only the pid can tell.
 */
public final class ArchiverLiveness {
    /** What the lock says. */
    public enum Probe { HELD, FREE, UNKNOWN }

    /** The exit code {@code flock -n} gives when the lock is held: one no command of ours returns. */
    private static final int CONFLICT = 3;
    private static final Duration RETAKE_EVERY = Duration.ofSeconds(10);

    private ArchiverLiveness() {
    }

    /** Whether a live archiver holds {@code file}'s lock, as archive_wal.sh decides it. */
    public static Probe probe(Path file) {
        if (!Files.exists(file)) {
            return Probe.FREE;
        }
        try {
            Process p = new ProcessBuilder(List.of("flock", "-n", "-s", "-E", String.valueOf(CONFLICT), file.toString(), "true"))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Probe.UNKNOWN;
            }
            return switch (p.exitValue()) {
                case 0 -> Probe.FREE;
                case CONFLICT -> Probe.HELD;
                default -> Probe.UNKNOWN;
            };
        } catch (IOException e) {
            return Probe.UNKNOWN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Probe.UNKNOWN;
        }
    }

    /** Whether the archiver that reported {@code pid} still runs: its lock when it can tell, else the pid. */
    public static boolean isRunning(Path file, long pid) {
        return switch (probe(file)) {
            case HELD -> true;
            case FREE -> false;
            case UNKNOWN -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        };
    }

    /**
     * Takes the lock for this process's lifetime; waits up to {@code wait} for it (a probe holds it
     * for an instant, and a dying archiver's child lets go a moment after its JVM).
     */
    static Holder hold(Path file, Duration wait) {
        Holder holder = new Holder(file);
        holder.take(wait);
        return holder;
    }

    /** The child holding the lock; {@link #close()} lets it go. Used by the archiver's loop thread only. */
    static final class Holder implements AutoCloseable {
        private final Path file;
        private Process child;
        private Instant lastAttempt = Instant.EPOCH;
        private String problem = "";
        private boolean lossReported;

        private Holder(Path file) {
            this.file = file;
        }

        boolean held() {
            return child != null && child.isAlive();
        }

        /**
         * Called on every round of the archiver's loop: takes the lock again when it is not held (its
         * child killed by someone, or flock failed), at most every 10 s and waiting at most a second,
         * since without it scripts start archivers that find this one running. Returns what to log:
         * the loss once, and the lock taken again.
         */
        Optional<String> keep() {
            if (held()) {
                return Optional.empty();
            }
            if (Duration.between(lastAttempt, Instant.now()).compareTo(RETAKE_EVERY) >= 0 && take(Duration.ofSeconds(1))) {
                lossReported = false;
                return Optional.of("taken again");
            }
            if (lossReported) {
                return Optional.empty();
            }
            lossReported = true;
            return Optional.of(problem.isEmpty() ? "the flock holding " + file + " has exited; taking it again" : problem);
        }

        private boolean take(Duration wait) {
            lastAttempt = Instant.now();
            release();
            try {
                // -o: only flock itself holds the lock, not cat, so a killed flock cannot leave it held by an orphan.
                Process p = new ProcessBuilder(List.of("flock", "-o", "-x", "-w", String.valueOf(Math.max(1, wait.toSeconds())),
                        file.toString(), "sh", "-c", "echo locked; exec cat >/dev/null"))
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                if ("locked".equals(out.readLine())) {
                    child = p;
                    problem = "";
                    return true;
                }
                p.getOutputStream().close();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                problem = "could not take the lock " + file + " within " + wait.toSeconds()
                        + " s: archive_wal.sh and 'pgbackup status' cannot see that this archiver runs";
            } catch (IOException e) {
                problem = "cannot run flock (util-linux) to take " + file + ": " + e.getMessage()
                        + "; archive_wal.sh and 'pgbackup status' fall back to the pid file";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problem = "interrupted while taking " + file;
            }
            return false;
        }

        private void release() {
            Process p = child;
            child = null;
            if (p == null) {
                return;
            }
            try {
                // End of file on its stdin: cat exits, then flock, and the lock is free.
                p.getOutputStream().close();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (IOException e) {
                p.destroyForcibly();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            release();
        }
    }
}
