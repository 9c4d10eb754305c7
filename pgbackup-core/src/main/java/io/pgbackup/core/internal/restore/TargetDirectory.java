package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.process.ProcessRunner.ProcessResult;
import io.pgbackup.core.process.ProcessRunner.ProcessSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.stream.Stream;

/** Whether a directory may be restored into: not in use, empty, or the stopped cluster's PGDATA to move aside. */
final class TargetDirectory {
    private static final DateTimeFormatter ASIDE_SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss");

    private final PgBackupContext context;

    TargetDirectory(PgBackupContext context) {
        this.context = context;
    }

    /**
     * Refuses a target that is in use or not empty; for the stopped cluster's own PGDATA with
     * {@code moveAside}, returns where it will be renamed to.
     */
    Optional<Path> check(Path dir, boolean moveAside) {
        Optional<Long> pid = livePostmaster(dir);
        if (pid.isPresent()) {
            throw new PgBackupException(ErrorCode.REFUSED, "PostgreSQL is running in " + dir + " (pid " + pid.get()
                    + "): stop it first (pg_ctl -D " + dir + " stop, or systemctl stop postgresql)");
        }
        boolean isPgData = context.config().pgData().map(p -> p.equals(dir)).orElse(false);
        if (isPgData && serverAnswers()) {
            throw new PgBackupException(ErrorCode.REFUSED, "the server at "
                    + context.config().serverDescription() + " is running and " + dir + " is PGDATA: stop PostgreSQL before restoring into it");
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || isEmptyDir(dir)) {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new PgBackupException(ErrorCode.REFUSED, dir + " is a file, not a directory: give another --target-dir");
            }
            return Optional.empty();
        }
        if (isPgData && moveAside) {
            return Optional.of(asideOf(dir));
        }
        if (isPgData) {
            throw new PgBackupException(ErrorCode.REFUSED, dir + " is the cluster's PGDATA and not empty: with PostgreSQL"
                    + " stopped, add --move-aside to rename it to " + dir.getFileName() + ".pre-restore-<time> first,"
                    + " or restore into an empty --target-dir");
        }
        throw new PgBackupException(ErrorCode.REFUSED, dir + " is not empty: restore into an empty or new directory"
                + " (--target-dir), or move its contents away first");
    }

    /**
     * Refuses a non-empty tablespace directory, unless {@code moveAside} (only granted for an
     * in-place restore, whose cluster was found stopped): then returns where it will be renamed to.
     */
    Optional<Path> checkTablespace(Path dir, boolean moveAside, boolean inPlace) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) || isEmptyDir(dir)) {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new PgBackupException(ErrorCode.REFUSED, "tablespace directory " + dir + " is a file, not a directory:"
                        + " restore the tablespace elsewhere with --tablespace-mapping OLD=NEW");
            }
            return Optional.empty();
        }
        if (moveAside && inPlace) {
            return Optional.of(asideOf(dir));
        }
        throw new PgBackupException(ErrorCode.REFUSED, "tablespace directory " + dir + " is not empty: restore the"
                + " tablespace elsewhere with --tablespace-mapping " + dir + "=NEW"
                + (inPlace ? ", or add --move-aside to rename it to " + dir.getFileName() + ".pre-restore-<time> first"
                : ", or move its contents away first"));
    }

    private Path asideOf(Path dir) {
        LocalDateTime now = LocalDateTime.now(context.clock());
        Path aside = dir.resolveSibling(dir.getFileName() + ".pre-restore-" + ASIDE_SUFFIX.format(now));
        if (Files.exists(aside, LinkOption.NOFOLLOW_LINKS)) {
            throw new PgBackupException(ErrorCode.REFUSED, aside + " already exists: wait a second and run restore again");
        }
        return aside;
    }

    private static Optional<Long> livePostmaster(Path dir) {
        Path pidFile = dir.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            String first = Files.readAllLines(pidFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
            long pid = Long.parseLong(first);
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private boolean serverAnswers() {
        try {
            if (!context.binaries().has("pg_isready")) {
                return false;
            }
            ProcessResult r = context.processRunner().run(ProcessSpec.of(context.binaries().tool("pg_isready").toString(),
                    "-q", "-h", context.config().host(), "-p", String.valueOf(context.config().port()), "-t", "3")
                    .withTimeout(Duration.ofSeconds(10)));
            // 0: accepting connections; 1: rejecting (starting up or shutting down) — both mean it runs.
            return r.exitCode() == 0 || r.exitCode() == 1;
        } catch (IOException | PgBackupException e) {
            return false;
        }
    }

    private static boolean isEmptyDir(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }


    /**
     * Makes {@code dir} an empty owner-only directory to restore into: renamed aside first when
     * {@code asideTo} is given (one rename, nothing deleted; the new one keeps the old owner), else
     * created where missing.
     */
    static void prepare(Path dir, Optional<Path> asideTo) throws IOException {
        var ownerOnly = java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
        if (asideTo.isPresent()) {
            var owner = Files.getOwner(dir);
            Files.move(dir, asideTo.get(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(ownerOnly));
            Files.setOwner(dir, owner);
        } else {
            Files.createDirectories(dir.getParent());
            if (!Files.exists(dir)) {
                Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(ownerOnly));
            }
        }
        Files.setPosixFilePermissions(dir, ownerOnly);
    }
}
