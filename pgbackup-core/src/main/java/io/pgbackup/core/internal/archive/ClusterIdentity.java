package io.pgbackup.core.internal.archive;

import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which cluster a repository's WAL archive belongs to: the first archiver records the cluster's
 * system identifier in {@code cluster.json}; an archiver for another cluster is refused, because
 * two clusters' segments share names (both start at {@code 000000010000000000000001}).
 */
public final class ClusterIdentity {
    public static final String KEY = "cluster.json";
    private static final Pattern ID = Pattern.compile("\"systemIdentifier\"\\s*:\\s*\"(\\d+)\"");

    private ClusterIdentity() {
    }

    /** The system identifier in {@code pgData/global/pg_control}: its first 8 bytes, in the machine's byte order. */
    public static String systemIdentifier(Path pgData) throws IOException {
        byte[] head;
        try (var in = Files.newInputStream(pgData.resolve("global").resolve("pg_control"))) {
            head = in.readNBytes(8);
        }
        if (head.length < 8) {
            throw new IOException(pgData.resolve("global/pg_control") + " is too short to be a control file");
        }
        return Long.toUnsignedString(ByteBuffer.wrap(head).order(ByteOrder.nativeOrder()).getLong());
    }

    /**
     * Empty when {@code systemIdentifier} may archive into {@code storage} (recorded now if this
     * is the first cluster to archive there), else the one line refusing it.
     */
    public static Optional<String> claim(Storage storage, String systemIdentifier) throws IOException {
        Optional<String> recorded = recorded(storage);
        if (recorded.isEmpty()) {
            String json = "{\"systemIdentifier\":\"" + systemIdentifier + "\"}\n";
            try {
                storage.write(KEY, json.getBytes(StandardCharsets.UTF_8), Storage.WriteMode.CREATE_NEW);
                return Optional.empty();
            } catch (FileAlreadyExistsException e) {
                recorded = recorded(storage);
            }
        }
        if (recorded.isPresent() && !recorded.get().equals(systemIdentifier)) {
            return Optional.of("refused: " + storage.location() + " archives the cluster with system identifier " + recorded.get()
                    + ", this cluster is " + systemIdentifier + "; give each cluster its own PG_BACKUP_DIR (and S3 prefix)");
        }
        return Optional.empty();
    }

    static Optional<String> recorded(Storage storage) throws IOException {
        try {
            Matcher m = ID.matcher(new String(storage.read(KEY), StandardCharsets.UTF_8));
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
