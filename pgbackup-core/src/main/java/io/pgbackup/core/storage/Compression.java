package io.pgbackup.core.storage;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The one place that knows how repository files are compressed: their file-name suffix and how to
 * read and write them. Backups, the WAL archive, restore, verify, retention and sync all ask here,
 * so a repository can hold files of several compressions at once.
 */
public enum Compression {
    GZIP("gzip", ".gz"),
    NONE("none", "");

    /** What {@code backup} and the archive script use when nothing is configured. */
    public static final Compression DEFAULT = GZIP;

    private final String cliName;
    private final String suffix;

    Compression(String cliName, String suffix) {
        this.cliName = cliName;
        this.suffix = suffix;
    }

    /** The name users type: {@code --compress gzip}, {@code PG_BACKUP_COMPRESS=gzip}. */
    public String cliName() {
        return cliName;
    }

    /** The file-name suffix including the dot, e.g. {@code .gz}; empty for {@link #NONE}. */
    public String suffix() {
        return suffix;
    }

    /** Wraps {@code raw} so that reading it yields the decompressed bytes. */
    public InputStream decompress(InputStream raw) throws IOException {
        return switch (this) {
            case GZIP -> new GZIPInputStream(raw, 64 * 1024);
            case NONE -> raw;
        };
    }

    /** Wraps {@code raw} so that bytes written to it are stored compressed. */
    public OutputStream compress(OutputStream raw) throws IOException {
        return switch (this) {
            case GZIP -> new GZIPOutputStream(raw, 64 * 1024);
            case NONE -> raw;
        };
    }

    /**
     * The compression of a stored file, from its name: {@code base.tar.gz} is gzip,
     * {@code base.tar} none. {@code stem} is the name without compression suffix
     * ({@code base.tar}, or a WAL file name).
     */
    public static Optional<Compression> ofFile(String fileName, String stem) {
        for (Compression c : values()) {
            if (fileName.equals(stem + c.suffix)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Splits a stored file name into its stem and compression, longest suffix first. */
    public static Optional<Compression> ofSuffix(String fileName) {
        return Arrays.stream(values())
                .filter(c -> !c.suffix.isEmpty() && fileName.endsWith(c.suffix))
                .findFirst();
    }

    /** Parses a user-typed name; {@code source} names the flag or variable for the error line. */
    public static Compression parse(String source, String value) {
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        for (Compression c : values()) {
            if (c.cliName.equals(wanted)) {
                return c;
            }
        }
        throw new PgBackupException(ErrorCode.INVALID_CONFIG, source + "='" + value
                + "' is not a known compression: use one of "
                + Arrays.stream(values()).map(Compression::cliName).collect(Collectors.joining(", ")));
    }
}
