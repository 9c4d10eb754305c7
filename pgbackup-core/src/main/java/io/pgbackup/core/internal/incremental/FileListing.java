package io.pgbackup.core.internal.incremental;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every regular file of the data directory a backup holds, with its size once restored:
 * {@code pgbackup_files.json}. The next incremental reads it to know the parent's length of each
 * relation segment. Older backups have none; their {@code backup_manifest} (PostgreSQL 13+) serves
 * the same purpose ({@link #readPostgresManifest}).
 */
public final class FileListing {
    public static final String FILE = "pgbackup_files.json";
    static final int FORMAT_VERSION = 1;
    private static final JsonFactory JSON = new JsonFactory();

    private final Map<String, Long> sizes = new ConcurrentHashMap<>();

    /** Notes a file; a tablespace file's path starts with {@code pg_tblspc/<oid>/}. */
    public void add(String path, long size) {
        sizes.put(path, size);
    }

    public Map<String, Long> sizes() {
        return Map.copyOf(sizes);
    }

    public int size() {
        return sizes.size();
    }

    /** Writes the listing, sorted by path, streaming (a cluster may have a great many files). */
    public void write(OutputStream out) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("formatVersion", FORMAT_VERSION);
            g.writeNumberField("blockSize", IncrementalFormat.BLOCK_SIZE);
            g.writeArrayFieldStart("files");
            for (Map.Entry<String, Long> e : new TreeMap<>(sizes).entrySet()) {
                g.writeRaw('\n');
                g.writeStartObject();
                g.writeStringField("path", e.getKey());
                g.writeNumberField("size", e.getValue());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    /** Reads a {@code pgbackup_files.json}: path to size. */
    public static Map<String, Long> read(InputStream in) throws IOException {
        return readFiles(in, "path", "size", "files");
    }

    /**
     * Reads the file sizes of PostgreSQL's {@code backup_manifest} ({@code Files[].Path/Size}); a
     * file named by {@code Encoded-Path} (not UTF-8) is left out: it is no relation segment.
     */
    public static Map<String, Long> readPostgresManifest(InputStream in) throws IOException {
        return readFiles(in, "Path", "Size", "Files");
    }

    private static Map<String, Long> readFiles(InputStream in, String pathField, String sizeField, String arrayField)
            throws IOException {
        Map<String, Long> files = new HashMap<>();
        try (JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.getCurrentName();
                JsonToken value = p.nextToken();
                if (field.equals(arrayField) && value == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        String path = null;
                        long size = -1;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String name = p.getCurrentName();
                            JsonToken t = p.nextToken();
                            if (name.equals(pathField) && t == JsonToken.VALUE_STRING) {
                                path = p.getText();
                            } else if (name.equals(sizeField) && t == JsonToken.VALUE_NUMBER_INT) {
                                size = p.getLongValue();
                            } else {
                                p.skipChildren();
                            }
                        }
                        if (path != null && size >= 0) {
                            files.put(path, size);
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        return files;
    }
}
