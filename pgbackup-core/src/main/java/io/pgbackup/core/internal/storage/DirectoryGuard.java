package io.pgbackup.core.internal.storage;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;

/**
 * The check every command that writes the repository makes first: {@code PG_BACKUP_DIR} (and the
 * layout inside it) must belong to the user running the command and be writable by nobody else.
 * Otherwise another local user could swap a script PostgreSQL runs, or a segment recovery replays.
 * {@code init} tightens the modes it creates; every later writer only checks, and refuses before
 * changing anything.
 */
public final class DirectoryGuard {
    private DirectoryGuard() {
    }

    /**
     * Fails with one line ({@link ErrorCode#REFUSED}) when a directory of the repository's layout
     * that exists is owned by another user or is group- or other-writable. Missing ones pass.
     */
    public static void requireOwnerOnly(Repository repository) {
        for (Path dir : List.of(repository.root(), repository.baseDir(), repository.walArchiveDir(), repository.scriptsDir())) {
            String problem = problem(dir);
            if (problem != null) {
                throw new PgBackupException(ErrorCode.REFUSED, problem + "; nothing was changed");
            }
        }
    }

    /** Why {@code dir} is unsafe to write into, or null when it is safe (or absent). */
    static String problem(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                return null;
            }
            Path real = dir.toRealPath();
            int owner = (Integer) Files.getAttribute(real, "unix:uid");
            long me = currentUid();
            if (me >= 0 && owner != me) {
                return real + " belongs to uid " + owner + ", not to the user running pgbackup (uid " + me
                        + "): run pgbackup as the directory's owner (the PostgreSQL user), or chown the repository to it";
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(real);
            if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
                return real + " is writable by " + (mode.contains(PosixFilePermission.OTHERS_WRITE) ? "other users" : "its group")
                        + ": another user could replace what PostgreSQL runs and replays; chmod go-w " + real
                        + " (or re-run 'pgbackup init', which makes it owner-only)";
            }
            return null;
        } catch (IOException | UnsupportedOperationException e) {
            return null; // no POSIX attributes here: nothing to judge by
        }
    }

    private static long currentUid() {
        try {
            return new com.sun.security.auth.module.UnixSystem().getUid();
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }
}
