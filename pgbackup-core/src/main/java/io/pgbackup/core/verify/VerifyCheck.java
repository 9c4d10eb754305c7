package io.pgbackup.core.verify;

import java.time.Duration;

/**
 * One check of a backup: what was checked ({@code base.tar.gz}, {@code wal archive}, ...), whether
 * it passed, one line saying what was found (on failure: the file or the first missing segment
 * and what is wrong with it), and how long it took.
 */
public record VerifyCheck(String name, boolean ok, String detail, Duration duration) {
    public static VerifyCheck passed(String name, String detail, Duration duration) {
        return new VerifyCheck(name, true, detail, duration);
    }

    public static VerifyCheck failed(String name, String detail, Duration duration) {
        return new VerifyCheck(name, false, detail, duration);
    }
}
