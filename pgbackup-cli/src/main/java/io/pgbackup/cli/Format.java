package io.pgbackup.cli;

import java.time.Duration;
import java.util.Locale;

/** Human renderings of sizes and durations, in one place so every command reads alike. */
final class Format {
    private Format() {
    }

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, value >= 100 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    }

    static String duration(Duration d) {
        long millis = d.toMillis();
        if (millis < 1000) {
            return millis + " ms";
        }
        if (millis < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
        }
        long s = d.toSeconds();
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }

    /** Age as "3 h", "2 d": coarse on purpose, it is read at a glance. */
    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min";
        }
        if (s < 86_400) {
            return s / 3600 + " h";
        }
        return s / 86_400 + " d";
    }

    static String rate(double bytesPerSecond) {
        return bytes((long) bytesPerSecond) + "/s";
    }

    /** "16384 at /srv/ts1 (16384.tar.gz), ...": each tablespace's OID, original location and stored archive. */
    static String tablespaces(java.util.List<io.pgbackup.core.backup.BackupManifest.Tablespace> tablespaces) {
        return tablespaces.stream().map(t -> t.oid() + " at " + t.location() + (t.file() == null ? "" : " (" + t.file() + ")"))
                .collect(java.util.stream.Collectors.joining(", "));
    }
}
