package io.pgbackup.core.testing;

import io.pgbackup.core.storage.Compression;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Looks for a plaintext marker in stored objects, raw or in what any decompressor makes of them:
 * the proof an encryption test gives that a table's rows reached the repository or the bucket
 * only sealed.
 */
public final class MarkerScan {
    private MarkerScan() {
    }

    /** Whether {@code raw} holds {@code marker}, as it is or decompressed by any {@link Compression}. */
    public static boolean holds(byte[] raw, String marker) {
        return format(raw, marker) != null;
    }

    /**
     * Every file below {@code dir} holding {@code marker} (see {@link #holds}), with the format it
     * showed in. A process still writing there (an archiver's state file) renames temporary files
     * between the listing and the read: the scan then starts over, so each file is read under the
     * name it ends up with.
     */
    public static List<String> filesHolding(Path dir, String marker) throws IOException {
        for (int attempt = 1; ; attempt++) {
            List<String> found = new ArrayList<>();
            boolean vanished = false;
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.filter(Files::isRegularFile).toList()) {
                    byte[] raw;
                    try {
                        raw = Files.readAllBytes(p);
                    } catch (java.nio.file.NoSuchFileException e) {
                        vanished = true;
                        continue;
                    }
                    String format = format(raw, marker);
                    if (format != null) {
                        found.add(format.isEmpty() ? p.toString() : p + " (" + format + ")");
                    }
                }
            } catch (java.io.UncheckedIOException e) {
                if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt == 10) {
                    throw e;
                }
                continue;
            }
            if (!vanished || attempt == 10) {
                return found;
            }
        }
    }

    /** "" when the marker is in the raw bytes, the compression's name when in its output, null when nowhere. */
    private static String format(byte[] raw, String marker) {
        byte[] needle = marker.getBytes(StandardCharsets.US_ASCII);
        if (contains(raw, needle)) {
            return "";
        }
        for (Compression c : Compression.values()) {
            try (InputStream in = c.decompress(new ByteArrayInputStream(raw))) {
                if (contains(in.readAllBytes(), needle)) {
                    return c.toString();
                }
            } catch (IOException | RuntimeException e) {
                // not in that format
            }
        }
        return null;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
