package io.pgbackup.core.internal.retention;

import java.time.Duration;

/** Ages for reasons and notes: {@code 3d 4h}, {@code 5h 12m}, {@code 40m}. */
final class RetentionFormat {
    private RetentionFormat() {
    }

    static String age(Duration d) {
        long minutes = Math.max(0, d.toMinutes());
        long days = minutes / (24 * 60);
        long hours = minutes / 60 % 24;
        long mins = minutes % 60;
        if (days > 0) {
            return days + "d " + hours + "h";
        }
        if (hours > 0) {
            return hours + "h " + mins + "m";
        }
        return mins + "m";
    }
}
