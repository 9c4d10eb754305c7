package io.pgbackup.core.internal.restore;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.internal.storage.BackgroundFsync;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Reassembles one restore root (the data directory from each member's base.tar, a tablespace
 * from its {@code <oid>.tar}) from a {@link RestoreChain}: the full's tar extracted, then each
 * newer member's tar applied over it in order, {@code INCREMENTAL.} entries block by block, whole
 * files replaced. Each tar is read once, front to back, as it streams from the repository (no
 * staging copy, random access or pg_combinebackup); roots are reassembled side by side. At the end
 * whatever the newest backup's tar does not list (dropped relations and databases, the leftovers of
 * a diverged copy in a delta restore) is removed, Files are queued for fsync as they are written.
 *
 * <p>Why oldest first rather than newest first with holes filled from older backups: the tars are
 * compressed streams, so a block of an older backup can only be reached by reading it in order;
 * applying each in turn costs the full restore plus the changed blocks, one sequential pass each.
 */
final class ChainExtractor {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ChainExtractor.class);

    private ChainExtractor() {
    }

    /**
     * @param archiveOf the member's archive for this root, or null where it has none (a tablespace created later)
     * @param keep      paths below the root that are not the tars' to decide (pg_wal, the tablespace links)
     */
    static long extractRoot(Repository repository, RestoreChain chain, Function<BackupInfo, String> archiveOf, Path root,
                            Predicate<String> keep, BackgroundFsync fsync, ProgressCounter counter) throws IOException {
        Set<String> seen = new HashSet<>();
        long bytes = 0;
        boolean first = true;
        List<BackupInfo> members = new ArrayList<>();
        List<String> archives = new ArrayList<>();
        for (BackupInfo member : chain.members()) {
            String archive = archiveOf.apply(member);
            if (archive != null) {
                members.add(member);
                archives.add(archive);
            }
        }
        // The next member's tar is opened (downloaded and decompressed ahead, a few MiB at most)
        // while the current one is written: the small increments' inflating overlaps the writes.
        BackupTarExtraction.Opened next = members.isEmpty() ? null : BackupTarExtraction.open(repository, members.get(0), archives.get(0));
        try {
            for (int i = 0; i < members.size(); i++) {
                BackupTarExtraction.Opened current = next;
                next = null;
                try (current) {
                    boolean last = i == members.size() - 1;
                    if (!last) {
                        next = BackupTarExtraction.open(repository, members.get(i + 1), archives.get(i + 1));
                    }
                    // Into an empty root, the first tar is an ordinary extraction; later ones land on its files.
                    InPlaceWriter writer = first && !chain.delta() ? null : new InPlaceWriter(true);
                    // Each file is flushed as soon as it is written (again after a newer member changes it; a pruned one is skipped).
                    bytes += current.extractInto(root, fsync::submit, counter, writer, last ? seen : null);
                }
                first = false;
            }
        } finally {
            if (next != null) {
                next.close();
            }
        }
        List<String> removed = prune(root, seen, keep);
        if (!removed.isEmpty()) {
            log.info("removed {} files and directories of {} that the newest backup does not hold", removed.size(), root);
        }
        return bytes;
    }

    /**
     * Deletes (links themselves, never what they point at) everything below {@code root} that is
     * neither in {@code seen}, nor a directory on the way to something in it, nor kept; returns
     * what it removed, relative to the root.
     */
    static List<String> prune(Path root, Set<String> seen, Predicate<String> keep) throws IOException {
        return walk(root, seen, keep, true);
    }

    /** What {@link #prune} would remove, removing nothing. */
    static List<String> unlisted(Path root, Set<String> seen, Predicate<String> keep) throws IOException {
        return walk(root, seen, keep, false);
    }

    private static List<String> walk(Path root, Set<String> seen, Predicate<String> keep, boolean delete) throws IOException {
        Set<String> ancestors = new HashSet<>();
        for (String s : seen) {
            for (int slash = s.indexOf('/'); slash > 0; slash = s.indexOf('/', slash + 1)) {
                ancestors.add(s.substring(0, slash));
            }
        }
        List<String> removed = new ArrayList<>();
        Path realRoot = root.toRealPath();
        Files.walkFileTree(realRoot, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(realRoot)) {
                    return FileVisitResult.CONTINUE;
                }
                String rel = relative(realRoot, dir);
                if (keep.test(rel)) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (seen.contains(rel) || ancestors.contains(rel)) {
                    return FileVisitResult.CONTINUE;
                }
                removed.add(rel + "/");
                if (delete) {
                    deleteTree(dir);
                }
                return FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String rel = relative(realRoot, file);
                if (!keep.test(rel) && !seen.contains(rel)) {
                    removed.add(rel);
                    if (delete) {
                        Files.delete(file);
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return removed;
    }

    private static String relative(Path root, Path p) {
        return root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
    }

    /** Deletes a directory and everything below it, links as links. */
    static void deleteTree(Path dir) throws IOException {
        io.pgbackup.core.internal.storage.AtomicFiles.deleteTree(dir);
    }

    /** Empties a delta restore's pg_wal (the diverged copy's WAL must never be replayed), a real directory only. */
    static void emptyWal(Path dataDir) throws IOException {
        Path wal = dataDir.resolve("pg_wal");
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(wal, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!a.isDirectory()) {
            throw new IOException(wal + " is not a directory (a link?): a delta restore rewrites pg_wal only in place;"
                    + " restore into an empty directory instead");
        }
        try (var children = Files.list(wal)) {
            for (Path child : children.toList()) {
                if (Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)) {
                    deleteTree(child);
                } else {
                    Files.delete(child);
                }
            }
        }
    }
}
