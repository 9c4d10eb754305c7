package io.pgbackup.cli;

import io.pgbackup.core.progress.ProgressListener;

import java.io.PrintStream;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Renders progress on stderr: live, a {@code \r}-rewritten line with done/total, percent, rate and
 * ETA, at most every 200 ms; otherwise nothing until {@link #finish}, which prints one summary line.
 */
final class ProgressBar implements ProgressListener {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 24;

    private final String phase;
    private final PrintStream err;
    private final boolean live;
    private final LongSupplier nanos;
    private final long started;
    private long lastDraw;
    private long done;
    private long total = -1;
    private boolean drawn;

    ProgressBar(String phase, PrintStream err, boolean live, LongSupplier nanos) {
        this.phase = phase;
        this.err = err;
        this.live = live;
        this.nanos = nanos;
        this.started = nanos.getAsLong();
        this.lastDraw = started - REDRAW_NANOS;
    }

    @Override
    public synchronized void update(String phase, long doneBytes, long totalBytes) {
        done = Math.max(done, doneBytes);
        total = totalBytes;
        long now = nanos.getAsLong();
        if (live && (now - lastDraw >= REDRAW_NANOS || (totalBytes > 0 && doneBytes >= totalBytes))) {
            lastDraw = now;
            err.print("\r" + line(now) + "\u001b[K");
            err.flush();
            drawn = true;
        }
    }

    /**
     * Wipes a drawn bar so that other output on the terminal (verify's verdict lines) starts on a
     * clean line; the next update draws it again at once.
     */
    synchronized void clear() {
        if (live && drawn) {
            err.print("\r\u001b[K");
            err.flush();
            lastDraw = nanos.getAsLong() - REDRAW_NANOS;
        }
    }

    /** Ends the bar's line, or (not live) prints the one summary line. */
    synchronized void finish() {
        long now = nanos.getAsLong();
        if (live) {
            err.print("\r" + line(now) + "\u001b[K");
            err.println();
        } else {
            double seconds = Math.max(1e-3, (now - started) / 1e9);
            err.println(phase + ": " + Format.bytes(done) + " in " + Format.duration(Duration.ofNanos(now - started)) + ", "
                    + Format.rate(done / seconds));
        }
        err.flush();
    }

    String line(long now) {
        double seconds = Math.max(1e-3, (now - started) / 1e9);
        double rate = done / seconds;
        StringBuilder b = new StringBuilder(phase).append(' ');
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            b.append('[').append("#".repeat(filled)).append(" ".repeat(WIDTH - filled)).append("] ")
                    .append(Math.min(100, done * 100 / total)).append("% ")
                    .append(Format.bytes(done)).append(" / ").append(Format.bytes(total));
        } else {
            b.append(Format.bytes(done));
        }
        b.append(", ").append(Format.rate(rate));
        if (total > 0 && rate > 0) {
            long remaining = Math.max(0, total - done);
            b.append(", ETA ").append(Format.duration(Duration.ofMillis((long) (remaining / rate * 1000))));
        } else {
            b.append(", ETA unknown");
        }
        return b.toString();
    }

    boolean drawn() {
        return drawn;
    }
}
