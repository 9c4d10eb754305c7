package io.pgbackup.core.internal.restore;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.internal.storage.BackgroundFsync;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;
import io.pgbackup.core.internal.storage.StoredName;
import io.pgbackup.core.internal.verify.PostgresManifest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A delta restore of a diff/incr that reads the full backup only for what the newer backups cannot
 * fix. The newest backup's {@code backup_manifest} (the server's, page-LSN path: every file under
 * its own name with the CRC32C of its whole content) is the reference for every file:
 * <ol>
 * <li>a relation segment already of that size and checksum is kept, no tar read for it (any other
 * file is taken from the newest backup, which holds it whole);</li>
 * <li>the others get the newer backups' entries (whole files, {@code INCREMENTAL.} blocks), oldest
 * first, written onto what the copy has, then are checksummed again;</li>
 * <li>only those still not matching (a block the newer backups do not hold differs, the file is
 * missing) are reassembled from the whole chain, the full's tar first; when there are none the
 * full's tar is never opened.</li>
 * </ol>
 * The newest tar is read in step 2 in any case: its listing decides what is removed, as in
 * {@link ChainExtractor}. A file rewritten in step 3 is the chain's reassembly, as a plain chain
 * restore writes it (a page may differ from the server's in hint bits, so it is not held to the checksum).
 */
final class VerifiedDelta {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(VerifiedDelta.class);

    private VerifiedDelta() {
    }

    /**
     * The newest backup's files by manifest path, or null when this way does not apply: a chain of
     * one (the full's tar is needed anyway), no backup_manifest (PostgreSQL 12), or one that does
     * not name every file's whole checksum (CRC32C) under the file's own name (the summaries path
     * lists {@code INCREMENTAL.} files). A manifest whose stored bytes or own checksum do not hold
     * is not trusted either.
     */
    static Map<String, PostgresManifest.Entry> reference(Repository repository, RestoreChain chain) {
        List<BackupInfo> members = chain.members();
        if (!chain.delta() || members.size() < 2) {
            return null;
        }
        BackupInfo newest = members.get(members.size() - 1);
        BackupManifest.BackupFile file = newest.manifest().files().stream()
                .filter(f -> StoredName.parse(f.name()).stem().equals(CombinedManifest.NAME)).findFirst().orElse(null);
        if (file == null) {
            return null;
        }
        PostgresManifest manifest;
        try {
            String key = newest.fileKey(file.name());
            byte[] stored;
            try (InputStream in = repository.rawStorage().open(key)) {
                stored = in.readAllBytes();
            }
            java.security.MessageDigest sha = StoredFileCheck.sha256();
            sha.update(stored);
            if (StoredFileCheck.contentProblem(stored.length, StoredFileCheck.hex(sha), file.size(), file.sha256()) != null) {
                log.warn("backup {}'s backup_manifest does not match its recorded checksum: the delta restore reads every backup", newest.id());
                return null;
            }
            try (InputStream in = StoredName.parse(key).compression().decompress(
                    repository.unseal(key, new java.io.ByteArrayInputStream(stored)))) {
                manifest = PostgresManifest.read(in.readAllBytes());
            }
        } catch (IOException e) {
            log.warn("cannot read backup {}'s backup_manifest ({}): the delta restore reads every backup", newest.id(), e.getMessage());
            return null;
        }
        if (!manifest.checksumMatches() || manifest.files().isEmpty()) {
            return null;
        }
        for (Map.Entry<String, PostgresManifest.Entry> e : manifest.files().entrySet()) {
            if (!"CRC32C".equals(e.getValue().algorithm()) || !InPlaceWriter.fileNameOf(e.getKey()).equals(e.getKey())) {
                return null;
            }
        }
        return manifest.files();
    }

    /** The reference's files below one root: {@code prefix} "" for the data directory, {@code pg_tblspc/<oid>/} for a tablespace. */
    static Map<String, PostgresManifest.Entry> below(Map<String, PostgresManifest.Entry> all, String prefix) {
        Map<String, PostgresManifest.Entry> out = new HashMap<>();
        all.forEach((path, entry) -> {
            // pg_wal is the newest pg_wal.tar's; a path that climbs out is never compared
            boolean here = prefix.isEmpty() ? !path.startsWith("pg_tblspc/") && !path.startsWith("pg_wal/") : path.startsWith(prefix);
            if (here && !path.startsWith("/") && !java.util.Arrays.asList(path.split("/")).contains("..")) {
                out.put(path.substring(prefix.length()), entry);
            }
        });
        return out;
    }

    /**
     * As {@link ChainExtractor#extractRoot}, with {@code expected} the reference's files below this root
     * ({@code tablespace}: the root is a tablespace's, its paths start with {@code PG_<major>_<catversion>/}).
     * The relation segments it found or made equal to the reference go into {@code verified}
     * (their manifest path, {@code manifestPrefix} + the path below the root, to their CRC32C), so
     * the synthesized backup_manifest does not read them again.
     */
    static long extractRoot(Repository repository, RestoreChain chain, Function<BackupInfo, String> archiveOf, Path root,
                            Map<String, PostgresManifest.Entry> expected, boolean tablespace, Predicate<String> keep, BackgroundFsync fsync,
                            ProgressCounter counter, String manifestPrefix, Map<String, String> verified) throws IOException {
        Path realRoot = root.toRealPath();
        // Only relation segments are kept on their checksum: a file that ends in its own CRC32C
        // (pg_control, pg_filenode.map, two-phase state) has the same whole-file CRC32C whatever its
        // content. The newest backup holds every other file whole, so those are written from it.
        Set<String> relations = new HashSet<>();
        for (String rel : expected.keySet()) {
            if (io.pgbackup.core.internal.incremental.RelationPath.isMainForkSegment(rel, tablespace)) {
                relations.add(rel);
            }
        }
        Set<String> kept = matching(realRoot, expected, relations);
        List<BackupInfo> members = chain.members();
        Set<String> seen = new HashSet<>();
        long bytes = 0;
        DeltaScope patch = new DeltaScope(realRoot, kept::contains, true);
        for (int i = 1; i < members.size(); i++) {
            String archive = archiveOf.apply(members.get(i));
            if (archive != null) {
                bytes += BackupTarExtraction.extract(repository, members.get(i), archive, root, fsync::submit, counter,
                        new InPlaceWriter(true, patch), i == members.size() - 1 ? seen : null);
            }
        }
        Set<String> pending = new HashSet<>(expected.keySet());
        pending.removeAll(kept);
        Set<String> patched = matching(realRoot, expected, pending);
        for (Set<String> equal : List.of(kept, patched)) {
            for (String rel : equal) {
                // Relation segments only: nothing after this pass rewrites them (backup_label, for one, is)
                if (relations.contains(rel)) {
                    verified.put(manifestPrefix + rel, expected.get(rel).checksum().toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
        Set<String> rewrite = new TreeSet<>(pending);
        rewrite.removeAll(patched);
        rewrite.addAll(patch.unresolved());
        for (String rel : patch.touched()) {
            if (!expected.containsKey(rel)) {
                rewrite.add(rel); // in the tar but not the manifest: nothing vouches for it
            }
        }
        rewrite.retainAll(seen);
        if (!rewrite.isEmpty()) {
            DeltaScope whole = new DeltaScope(realRoot, rel -> !rewrite.contains(rel), false);
            for (BackupInfo member : members) {
                String archive = archiveOf.apply(member);
                if (archive != null) {
                    bytes += BackupTarExtraction.extract(repository, member, archive, root, fsync::submit, counter,
                            new InPlaceWriter(true, whole), null);
                }
            }
        }
        List<String> removed = ChainExtractor.prune(root, seen, keep);
        log.info("delta into {}: {} files kept, {} made to match by the newer backups, {} rewritten from the whole chain{}, {} removed",
                root, kept.size(), patched.size(), rewrite.size(), rewrite.isEmpty() ? " (the full backup's tar not read)" : "",
                removed.size());
        return bytes;
    }

    /** Those of {@code paths} that are regular files of the expected size and CRC32C, checksummed on two threads. */
    private static Set<String> matching(Path realRoot, Map<String, PostgresManifest.Entry> expected, Set<String> paths)
            throws IOException {
        List<String> candidates = new ArrayList<>();
        List<Callable<Boolean>> checks = new ArrayList<>();
        for (String rel : paths) {
            PostgresManifest.Entry want = expected.get(rel);
            BasicFileAttributes a = InPlaceWriter.attributes(realRoot.resolve(rel));
            if (a != null && a.isRegularFile() && a.size() == want.size()) {
                candidates.add(rel);
                checks.add(() -> CombinedManifest.crc32c(realRoot.resolve(rel)).equalsIgnoreCase(want.checksum()));
            }
        }
        List<Boolean> equal = Pools.runAll("pgbackup-delta-check", 2, checks);
        Set<String> out = new HashSet<>();
        for (int k = 0; k < candidates.size(); k++) {
            if (equal.get(k)) {
                out.add(candidates.get(k));
            }
        }
        return out;
    }
}
