package io.pgbackup.core.internal.incremental;

import java.util.regex.Pattern;

/**
 * Which tar entries are relation segments the page-LSN rule may filter: the main fork
 * ({@code <relfilenode>} or {@code <relfilenode>.<segno>}) in a database directory, global/, or a
 * tablespace's {@code PG_<major>_<catversion>/<db>/}. Forks (_fsm, _vm, _init), temporary
 * relations (t<backend>_...) and every other file are stored whole.
 */
public final class RelationPath {
    private static final Pattern MAIN_FORK = Pattern.compile("[0-9]+(\\.[0-9]+)?");
    private static final Pattern IN_DATA_DIR = Pattern.compile(
            "(base/[0-9]+|global|pg_tblspc/[0-9]+/PG_[^/]+/[0-9]+)/[0-9]+(\\.[0-9]+)?");
    private static final Pattern IN_TABLESPACE = Pattern.compile("PG_[^/]+/[0-9]+/[0-9]+(\\.[0-9]+)?");

    private RelationPath() {
    }

    /** {@code tarPath} as it is in base.tar ({@code tablespace} false) or a tablespace's tar. */
    public static boolean isMainForkSegment(String tarPath, boolean tablespace) {
        return (tablespace ? IN_TABLESPACE : IN_DATA_DIR).matcher(tarPath).matches();
    }

    /** The file's name in its directory. */
    static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** The path with the file name replaced by {@code INCREMENTAL.<name>}. */
    static String incrementalPath(String path) {
        int slash = path.lastIndexOf('/');
        return path.substring(0, slash + 1) + IncrementalFormat.PREFIX + path.substring(slash + 1);
    }

    static boolean isMainForkName(String fileName) {
        return MAIN_FORK.matcher(fileName).matches();
    }
}
