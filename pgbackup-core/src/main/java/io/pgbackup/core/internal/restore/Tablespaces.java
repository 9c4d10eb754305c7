package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.restore.RestorePlan.TablespaceTarget;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Tablespaces outside the data directory: where each goes (planned, every refusal before anything
 * changes), preparing those directories, and pointing the restored cluster at them.
 *
 * <p>BASE_BACKUP with {@code TABLESPACE_MAP} sends an empty {@code pg_tblspc/} and a
 * {@code tablespace_map} file ({@code <oid> <path>} per line) in base.tar; PostgreSQL, starting
 * from a backup_label, reads that file and (re)creates {@code pg_tblspc/<oid>} as links to the
 * paths it names. So the map is rewritten where a tablespace moved, and the links are created
 * here too, so the directory is complete before start-up (pg_verifybackup follows them).
 */
final class Tablespaces {
    static final String MAP_FILE = "tablespace_map";

    private Tablespaces() {
    }

    /** Where each tablespace of the backup goes; refuses an unknown OLD, overlapping or non-empty directories. */
    static List<TablespaceTarget> plan(BackupManifest m, Path dataDir, Map<Path, Path> mapping, boolean moveAside,
                                       boolean inPlace, TargetDirectory targets) {
        Set<Path> known = m.tablespaces().stream().map(t -> Path.of(t.location()).normalize()).collect(Collectors.toSet());
        for (Path old : mapping.keySet()) {
            if (!known.contains(old)) {
                throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "--tablespace-mapping " + old + "=...: backup "
                        + m.id() + " has no tablespace there; its tablespaces are at "
                        + (known.isEmpty() ? "(none)" : known.stream().map(Path::toString).sorted().collect(Collectors.joining(", "))));
            }
        }
        List<TablespaceTarget> out = new ArrayList<>();
        Set<Path> taken = new HashSet<>();
        for (BackupManifest.Tablespace t : m.tablespaces()) {
            Path original = Path.of(t.location()).normalize();
            Path location = mapping.getOrDefault(original, original);
            String hint = mapping.containsKey(original) ? "" : ": map it elsewhere with --tablespace-mapping " + original + "=NEW";
            if (!location.equals(original) && location.toString().matches("(?s).*[\\\\\n\r].*")) {
                // tablespace_map escapes these differently across PostgreSQL versions
                throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "tablespace directory " + location.toString().strip()
                        + " holds a backslash or line break, which tablespace_map cannot carry safely: choose another directory");
            }
            if (location.startsWith(dataDir) || dataDir.startsWith(location)) {
                throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "tablespace " + t.oid() + " would be restored into "
                        + location + ", which overlaps the data directory " + dataDir + hint);
            }
            for (Path other : taken) {
                if (location.startsWith(other) || other.startsWith(location)) {
                    throw new PgBackupException(ErrorCode.INVALID_ARGUMENT, "tablespace " + t.oid() + " would be restored into "
                            + location + ", which overlaps another tablespace's " + other + hint);
                }
            }
            taken.add(location);
            Optional<Path> aside = targets.checkTablespace(location, moveAside, inPlace);
            out.add(new TablespaceTarget(t.oid(), t.location(), location, t.fileIn(m), aside));
        }
        return out;
    }

    /** The lines --dry-run shows for the tablespaces, in the order they happen. */
    static List<String> describe(Path dataDir, List<TablespaceTarget> tablespaces) {
        List<String> lines = new ArrayList<>();
        for (TablespaceTarget t : tablespaces) {
            t.moveAsideTo().ifPresent(p -> lines.add("rename " + t.location() + " to " + p + ", then create an empty " + t.location()));
            lines.add(t.location() + "/ from " + t.archive() + " (tablespace " + t.oid()
                    + (t.relocated() ? ", was " + t.originalLocation() : "") + ")");
        }
        for (TablespaceTarget t : tablespaces) {
            lines.add(dataDir.resolve("pg_tblspc").resolve(String.valueOf(t.oid())) + " -> " + t.location());
        }
        if (tablespaces.stream().anyMatch(TablespaceTarget::relocated)) {
            lines.add(dataDir.resolve(MAP_FILE) + " (rewritten with the new tablespace locations)");
        }
        return lines;
    }

    /**
     * Moves non-empty tablespace directories aside and creates each one empty (0700). When PGDATA
     * was moved aside as well, its links follow its tablespaces, so the old cluster stays whole.
     */
    static void prepare(RestorePlan plan) {
        for (TablespaceTarget t : plan.tablespaces()) {
            Path dir = t.location();
            try {
                TargetDirectory.prepare(dir, t.moveAsideTo());
                if (t.moveAsideTo().isPresent() && plan.moveAsideTo().isPresent()) {
                    repoint(plan.moveAsideTo().get().resolve("pg_tblspc"), dir, t.moveAsideTo().get());
                }
            } catch (IOException e) {
                throw new PgBackupException(ErrorCode.IO_FAILED, "cannot prepare tablespace directory " + dir + ": " + e.getMessage()
                        + t.moveAsideTo().filter(Files::exists).map(p -> "; its previous content is safe in " + p).orElse(""), e);
            }
        }
    }

    /** Re-points the links in the moved-aside {@code pg_tblspc} that led to {@code from}. */
    private static void repoint(Path pgTblspc, Path from, Path to) throws IOException {
        if (!Files.isDirectory(pgTblspc)) {
            return;
        }
        try (var links = Files.list(pgTblspc)) {
            for (Path link : links.filter(Files::isSymbolicLink).toList()) {
                Path target = Files.readSymbolicLink(link);
                if (target.isAbsolute() && target.normalize().equals(from)) {
                    Files.delete(link);
                    Files.createSymbolicLink(link, to);
                }
            }
        }
        AtomicFiles.fsyncDirectory(pgTblspc);
    }

    /**
     * After extraction: {@code pg_tblspc/<oid>} links to each restored location and, where one moved,
     * {@code tablespace_map} rewritten (other lines kept as they were), so PostgreSQL's start-up
     * recreates the same links. All flushed, before recovery.signal.
     */
    static void link(Path dataDir, List<TablespaceTarget> tablespaces) throws IOException {
        if (tablespaces.isEmpty()) {
            return;
        }
        Path pgTblspc = Files.createDirectories(dataDir.resolve("pg_tblspc"));
        if (!Files.isDirectory(pgTblspc, LinkOption.NOFOLLOW_LINKS)) {
            // The extractor keeps a base.tar link inside the restore; the tablespace links still go in pg_tblspc itself.
            throw new IOException(pgTblspc + " is a link in the backup's base.tar, not a directory: cannot link the tablespaces in it");
        }
        for (TablespaceTarget t : tablespaces) {
            Path link = pgTblspc.resolve(String.valueOf(t.oid()));
            if (Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isSymbolicLink(link)) {
                    throw new IOException(link + " is not a link in the backup's base.tar: cannot point it at " + t.location());
                }
                Files.delete(link);
            }
            Files.createSymbolicLink(link, t.location());
            AtomicFiles.fsyncDirectory(t.location());
            AtomicFiles.fsyncDirectory(t.location().getParent());
        }
        AtomicFiles.fsyncDirectory(pgTblspc);
        Path map = dataDir.resolve(MAP_FILE);
        if (tablespaces.stream().anyMatch(TablespaceTarget::relocated)) {
            AtomicFiles.write(map, rewriteMap(Files.exists(map) ? Files.readString(map, StandardCharsets.UTF_8) : "", tablespaces)
                    .getBytes(StandardCharsets.UTF_8), PosixFilePermissions.fromString("rw-------"));
        }
    }

    /** The map with the line of each relocated tablespace replaced (or added), the rest unchanged. */
    static String rewriteMap(String map, List<TablespaceTarget> tablespaces) {
        StringBuilder out = new StringBuilder();
        Set<Long> written = new HashSet<>();
        for (String line : map.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            String oid = line.split(" ", 2)[0];
            Optional<TablespaceTarget> t = tablespaces.stream().filter(x -> String.valueOf(x.oid()).equals(oid)).findFirst();
            if (t.isPresent()) {
                written.add(t.get().oid());
                out.append(t.get().relocated() ? mapLine(t.get()) : line + "\n");
            } else {
                out.append(line).append('\n');
            }
        }
        for (TablespaceTarget t : tablespaces) {
            if (!written.contains(t.oid())) {
                out.append(mapLine(t));
            }
        }
        return out.toString();
    }

    private static String mapLine(TablespaceTarget t) {
        return t.oid() + " " + t.location() + "\n";
    }
}
