package io.pgbackup.core.internal.verify;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.pgbackup.core.internal.archive.WalSegmentName;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * PostgreSQL's own {@code backup_manifest} (13+), as pg_basebackup writes it: every file of the
 * data directory with its size and checksum, the WAL ranges the backup needs, and a SHA-256 of
 * the manifest itself. Read with a streaming parser: memory grows with the number of files, never
 * with their size.
 */
public record PostgresManifest(Map<String, Entry> files, List<WalRange> walRanges, boolean checksumMatches,
                        String checksumAlgorithms) {
    /** The line that ends the part of the manifest its own checksum covers. */
    private static final byte[] CHECKSUM_KEY = "\"Manifest-Checksum\"".getBytes(StandardCharsets.US_ASCII);

    /** One file: its size, checksum algorithm ({@code CRC32C}, {@code SHA256}, ..., {@code NONE}) and checksum in hex. */
    public record Entry(long size, String algorithm, String checksum) {
    }

    /** A range of WAL on one timeline the backup needs to become consistent. */
    record WalRange(int timeline, long startLsn, long endLsn) {
    }

    public static PostgresManifest read(byte[] file) throws IOException {
        boolean checksumMatches = checksumMatches(file);
        Map<String, Entry> files = new LinkedHashMap<>();
        List<WalRange> ranges = new ArrayList<>();
        java.util.Set<String> algorithms = new java.util.TreeSet<>();
        try (JsonParser p = new JsonFactory().createParser(file)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if ("Files".equals(field) && value == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        Map<String, String> f = flatObject(p);
                        String path = f.containsKey("Path") ? f.get("Path")
                                : new String(HexFormat.of().parseHex(f.getOrDefault("Encoded-Path", "")), StandardCharsets.UTF_8);
                        String algorithm = f.getOrDefault("Checksum-Algorithm", "NONE").toUpperCase(Locale.ROOT);
                        algorithms.add(algorithm);
                        files.put(path, new Entry(Long.parseLong(f.getOrDefault("Size", "-1")), algorithm,
                                f.getOrDefault("Checksum", "").toLowerCase(Locale.ROOT)));
                    }
                } else if ("WAL-Ranges".equals(field) && value == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        Map<String, String> r = flatObject(p);
                        ranges.add(new WalRange(Integer.parseInt(r.get("Timeline")), WalSegmentName.parseLsn(r.get("Start-LSN")),
                                WalSegmentName.parseLsn(r.get("End-LSN"))));
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (RuntimeException e) {
            throw new IOException("not a PostgreSQL backup manifest (" + e.getMessage() + ")", e);
        }
        return new PostgresManifest(files, ranges, checksumMatches, String.join("/", algorithms));
    }

    private static Map<String, String> flatObject(JsonParser p) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            if (t.isStructStart()) {
                p.skipChildren();
            } else {
                values.put(name, p.getValueAsString());
            }
        }
        return values;
    }

    private static void expect(JsonToken actual, JsonToken wanted) throws IOException {
        if (actual != wanted) {
            throw new IOException("expected " + wanted + ", found " + actual);
        }
    }

    /**
     * Whether {@code Manifest-Checksum} is the SHA-256 of every byte before the line that holds it,
     * as PostgreSQL computes it. Streams the file a line at a time.
     */
    private static boolean checksumMatches(byte[] file) throws IOException {
        MessageDigest sha = Digests.sha256();
        String stated = null;
        try (InputStream in = new java.io.ByteArrayInputStream(file)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            int b;
            boolean eof = false;
            while (!eof) {
                line.reset();
                while ((b = in.read()) != -1 && b != '\n') {
                    line.write(b);
                }
                eof = b == -1;
                byte[] bytes = line.toByteArray();
                if (startsWith(bytes, CHECKSUM_KEY)) {
                    String text = new String(bytes, StandardCharsets.US_ASCII);
                    stated = text.replaceAll(".*:\\s*\"([0-9a-fA-F]+)\".*", "$1").toLowerCase(Locale.ROOT);
                    break;
                }
                sha.update(bytes);
                if (!eof) {
                    sha.update((byte) '\n');
                }
            }
        }
        return stated != null && stated.equals(HexFormat.of().formatHex(sha.digest()));
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
