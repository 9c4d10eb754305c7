package io.pgbackup.core.internal.storage;

import io.pgbackup.core.storage.Compression;

/**
 * The one place a stored file's name says how its content is encoded: {@code base.tar.gz} is
 * {@code base.tar} through gzip. Every reader asks here (restore, verify, the WAL archive,
 * retention), and the shell scripts get the same suffix table rendered into them.
 *
 * @param stem the name without the encoding suffix ({@code base.tar}, a WAL file name)
 */
public record StoredName(String stem, Compression compression) {
    /** Splits a file name or key into stem and codec; a name without a known suffix is stored as is. */
    public static StoredName parse(String nameOrKey) {
        String name = nameOrKey.substring(nameOrKey.lastIndexOf('/') + 1);
        Compression c = Compression.ofSuffix(name).orElse(Compression.NONE);
        return new StoredName(name.substring(0, name.length() - c.suffix().length()), c);
    }

    /** The stored file name: stem plus suffix. */
    public String fileName() {
        return stem + compression.suffix();
    }
}
