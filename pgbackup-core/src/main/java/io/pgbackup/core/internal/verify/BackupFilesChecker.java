package io.pgbackup.core.internal.verify;

import io.pgbackup.core.verify.VerifyReport.VerifyCheck;

import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredFileCheck;
import io.pgbackup.core.internal.storage.StoredName;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The files of one backup directory against its two manifests: every stored file's size and
 * SHA-256 against {@code pgbackup_manifest.json}; every file inside {@code base.tar*} against
 * PostgreSQL's {@code backup_manifest} (size and checksum), and likewise each tablespace's
 * {@code <oid>.tar*} against the manifest's {@code pg_tblspc/<oid>/} entries; {@code pg_wal.tar*} against the
 * manifest's WAL ranges. One check per stored file, named after it.
 */
final class BackupFilesChecker {
    static final String PG_MANIFEST = "backup_manifest";
    private static final int BUFFER = 128 * 1024;
    /** How many differences a failing check names before summarising the rest. */
    private static final int PROBLEMS_SHOWN = 3;

    private final Repository repository;
    private final BackupInfo backup;
    private final BackupManifest manifest;
    /** WAL segments found in pg_wal.tar: the WAL check counts them as present up to the backup's stop. */
    private final Set<String> segmentsInBackup = new ConcurrentSkipListSet<>();
    private PostgresManifest pgManifest;
    /** For a diff or incr: its {@code INCREMENTAL.} entries, checked against the parent's file sizes. */
    private IncrementalEntries incremental;
    /** Told the stored bytes read (verify's progress); null: nobody listens. */
    private final ProgressCounter counter;

    BackupFilesChecker(Repository repository, BackupInfo backup) {
        this(repository, backup, null);
    }

    BackupFilesChecker(Repository repository, BackupInfo backup, ProgressCounter counter) {
        this.counter = counter;
        this.repository = repository;
        this.backup = backup;
        this.manifest = backup.manifest();
    }

    /** A diff or incr: {@code parentSizes} gives each file's size in its parent, read when first needed. */
    void parentSizes(java.util.function.Supplier<Map<String, Long>> parentSizes) {
        incremental = new IncrementalEntries(parentSizes);
    }

        Set<String> segmentsInBackup() {
        return Set.copyOf(segmentsInBackup);
    }

    /** PostgreSQL's manifest first: the base tar is checked against it. */
    VerifyCheck checkPgManifest() {
        Instant start = Instant.now();
        var listed = manifest.file(PG_MANIFEST);
        if (listed.isEmpty()) {
            return VerifyCheck.passed(PG_MANIFEST, "not in this backup (PostgreSQL before 13): files inside the tars are"
                    + " checked by the compressed streams' checksums only", since(start));
        }
        String file = backup.fileKey(PG_MANIFEST);
        try {
            String problem = sizeProblem(file, listed.get());
            if (problem == null && io.pgbackup.core.internal.crypto.ReadCheck.sealedWithoutKey(repository, file)) {
                return storedBytesOnly(file, listed.get(), start);
            }
            if (problem == null) {
                StoredFileReader.Outcome read = StoredFileReader.readFile(repository, file, Compression.NONE, counter, in -> { });
                problem = shaProblem(read, listed.get());
            }
            if (problem != null) {
                return VerifyCheck.failed(PG_MANIFEST, problem, since(start));
            }
            PostgresManifest parsed = PostgresManifest.read(repository.storage().read(file));
            if (!parsed.checksumMatches()) {
                return VerifyCheck.failed(PG_MANIFEST, "its Manifest-Checksum does not match its content: the manifest was"
                        + " altered after PostgreSQL wrote it", since(start));
            }
            pgManifest = parsed;
            return VerifyCheck.passed(PG_MANIFEST, parsed.files().size() + " files listed (" + parsed.checksumAlgorithms()
                    + "), Manifest-Checksum matches", since(start));
        } catch (IOException | RuntimeException e) {
            return VerifyCheck.failed(PG_MANIFEST, "cannot be read: " + message(e), since(start));
        }
    }

    /** Every stored file that is not PostgreSQL's manifest, in manifest order. */
    List<BackupManifest.BackupFile> storedFiles() {
        return manifest.files().stream().filter(f -> !f.name().equals(PG_MANIFEST)).toList();
    }

    VerifyCheck checkStoredFile(BackupManifest.BackupFile listed) {
        Instant start = Instant.now();
        String name = listed.name();
        String file = backup.fileKey(name);
        StoredName stored = StoredName.parse(name);
        Compression compression = stored.compression();
        String stem = stored.stem();
        try {
            String problem = sizeProblem(file, listed);
            if (problem != null) {
                return VerifyCheck.failed(name, problem, since(start));
            }
            if (io.pgbackup.core.internal.crypto.ReadCheck.sealedWithoutKey(repository, file)) {
                return storedBytesOnly(file, listed, start);
            }
            if (stem.equals("base.tar")) {
                return checkTar(file, listed, compression, start, "");
            }
            var tablespace = manifest.tablespaces().stream().filter(t -> stem.equals(t.oid() + ".tar")).findFirst();
            if (tablespace.isPresent()) {
                return checkTar(file, listed, compression, start, tablespacePrefix(tablespace.get()));
            }
            if (stem.equals("pg_wal.tar")) {
                return checkWalTar(file, listed, compression, start);
            }
            StoredFileReader.Outcome read = StoredFileReader.readFile(repository, file, compression, counter, in -> { });
            problem = shaProblem(read, listed);
            return problem == null ? VerifyCheck.passed(name, "size and SHA-256 match, " + describe(compression) + " reads to its end", since(start))
                    : VerifyCheck.failed(name, problem, since(start));
        } catch (IOException | RuntimeException e) {
            return VerifyCheck.failed(name, unreadable(compression, e), since(start));
        }
    }

    /** A sealed file on a host without the private key: the stored bytes' size and SHA-256, and a line saying what was not checked. */
    private VerifyCheck storedBytesOnly(String file, BackupManifest.BackupFile listed, Instant start) throws IOException {
        String problem = StoredFileCheck.check(repository, file, listed.size(), listed.sha256());
        return problem == null ? VerifyCheck.passed(listed.name(), "size and SHA-256 of the sealed file match; sealed, and this"
                + " host has no private key: authenticity and content were not checked", since(start))
                : VerifyCheck.failed(listed.name(), problem, since(start));
    }

    /** backup_manifest names a tablespace's files {@code pg_tblspc/<oid>/PG_<major>_<catversion>/...}. */
    private static String tablespacePrefix(BackupManifest.Tablespace t) {
        return "pg_tblspc/" + t.oid() + "/";
    }

    /**
     * A tar against the part of backup_manifest it holds: a tablespace's ({@code prefix}
     * {@code pg_tblspc/<oid>/}, which its tar's paths lack), or for base.tar ({@code prefix} empty)
     * everything but the stored tablespaces'.
     */
    private VerifyCheck checkTar(String file, BackupManifest.BackupFile listed, Compression compression, Instant start,
                                 String prefix) throws IOException {
        Map<String, PostgresManifest.Entry> expected = new java.util.HashMap<>();
        if (pgManifest != null) {
            List<String> elsewhere = manifest.tablespaces().stream()
                    .filter(t -> manifest.file(t.fileIn(manifest)).isPresent()).map(BackupFilesChecker::tablespacePrefix).toList();
            pgManifest.files().forEach((path, entry) -> {
                boolean inThisTar = prefix.isEmpty() ? elsewhere.stream().noneMatch(path::startsWith) : path.startsWith(prefix);
                if (inThisTar) {
                    expected.put(path, entry);
                }
            });
        }
        List<String> problems = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        byte[] buffer = new byte[BUFFER];
        long[] files = {0};
        StoredFileReader.Outcome read = StoredFileReader.readTar(repository, file, compression, counter, (tarPath, size, content) -> {
            String path = prefix + tarPath;
            files[0]++;
            seen.add(path);
            PostgresManifest.Entry entry = expected.get(path);
            String changes = incremental == null || entry != null ? null : IncrementalEntries.fileOf(path);
            if (changes != null) {
                // pgbackup's page-LSN incremental: backup_manifest names the whole file the entry's blocks belong to
                seen.add(changes);
                if (pgManifest != null && !expected.containsKey(changes)) {
                    problems.add(path + " changes " + changes + ", which " + PG_MANIFEST + " does not list");
                }
                String problem = incremental.check(path, changes, size, content, buffer);
                if (problem != null) {
                    problems.add(problem);
                }
                return;
            }
            if (pgManifest == null) {
                drain(content, buffer, null);
                return;
            }
            if (entry == null) {
                drain(content, buffer, null);
                problems.add(path + " is in the tar but not in " + PG_MANIFEST);
                return;
            }
            Digests.Checksum checksum = Digests.forAlgorithm(entry.algorithm());
            long actual = drain(content, buffer, checksum);
            if (actual != entry.size()) {
                problems.add(path + " is " + actual + " bytes, " + PG_MANIFEST + " says " + entry.size());
            } else if (checksum != null && !checksum.matches(entry.checksum())) {
                problems.add(path + " has " + entry.algorithm() + " " + checksum.hex() + ", " + PG_MANIFEST + " says "
                        + entry.checksum());
            }
        });
        String shaProblem = shaProblem(read, listed);
        if (shaProblem != null) {
            return VerifyCheck.failed(listed.name(), shaProblem, since(start));
        }
        if (pgManifest != null) {
            Set<String> missing = new TreeSet<>(expected.keySet());
            missing.removeAll(seen);
            missing.forEach(p -> problems.add(p + " is in " + PG_MANIFEST + " but not in the tar"));
        }
        if (!problems.isEmpty()) {
            return VerifyCheck.failed(listed.name(), summarise(problems), since(start));
        }
        return VerifyCheck.passed(listed.name(), "size and SHA-256 match, " + describe(compression) + " and tar read to the end, "
                + files[0] + " files" + (pgManifest == null ? "" : " match " + PG_MANIFEST + " (" + pgManifest.checksumAlgorithms() + ")"),
                since(start));
    }

    private VerifyCheck checkWalTar(String file, BackupManifest.BackupFile listed, Compression compression, Instant start)
            throws IOException {
        long segmentSize = manifest.walSegmentSize();
        List<String> problems = new ArrayList<>();
        byte[] buffer = new byte[BUFFER];
        StoredFileReader.Outcome read = StoredFileReader.readTar(repository, file, compression, counter, (path, size, content) -> {
            long actual = drain(content, buffer, null);
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (!path.contains("/") && WalSegmentName.parse(name, segmentSize).isPresent()) {
                segmentsInBackup.add(name);
                if (actual != segmentSize) {
                    problems.add(name + " is " + actual + " bytes, a WAL segment is " + segmentSize);
                }
            }
        });
        String shaProblem = shaProblem(read, listed);
        if (shaProblem != null) {
            return VerifyCheck.failed(listed.name(), shaProblem, since(start));
        }
        List<String> needed = neededSegments(segmentSize);
        for (String segment : needed) {
            if (!segmentsInBackup.contains(segment)) {
                problems.add(segment + " is missing: the backup needs it to become consistent");
            }
        }
        if (!problems.isEmpty()) {
            return VerifyCheck.failed(listed.name(), summarise(problems), since(start));
        }
        return VerifyCheck.passed(listed.name(), "size and SHA-256 match, " + describe(compression) + " and tar read to the end, "
                + "holds " + (needed.isEmpty() ? segmentsInBackup.size() + " segments"
                : needed.get(0) + (needed.size() > 1 ? ".." + needed.get(needed.size() - 1) : "")), since(start));
    }

    /** The segments from the backup's start to its end: PostgreSQL's WAL ranges when there is a manifest, else pgbackup's. */
    private List<String> neededSegments(long segmentSize) {
        List<String> out = new ArrayList<>();
        if (pgManifest != null && !pgManifest.walRanges().isEmpty()) {
            for (PostgresManifest.WalRange r : pgManifest.walRanges()) {
                long first = Long.divideUnsigned(r.startLsn(), segmentSize);
                // The end LSN is exclusive: a range ending on a segment boundary does not need the next segment.
                long last = Long.divideUnsigned(Math.max(r.startLsn(), r.endLsn() - 1), segmentSize);
                for (long s = first; s <= last; s++) {
                    out.add(new WalSegmentName(r.timeline(), s, segmentSize).fileName());
                }
            }
            return out;
        }
        var start = WalSegmentName.parse(manifest.startWalFile(), segmentSize);
        var stop = WalSegmentName.parse(manifest.stopWalFile(), segmentSize);
        if (start.isPresent() && stop.isPresent()) {
            for (long s = start.get().segmentNumber(); s <= stop.get().segmentNumber(); s++) {
                out.add(new WalSegmentName(manifest.timeline(), s, segmentSize).fileName());
            }
        }
        return out;
    }

    private static long drain(InputStream in, byte[] buffer, Digests.Checksum checksum) throws IOException {
        long total = 0;
        int n;
        while ((n = in.read(buffer)) > 0) {
            if (checksum != null) {
                checksum.update(buffer, 0, n);
            }
            total += n;
        }
        return total;
    }

    private String sizeProblem(String key, BackupManifest.BackupFile listed) throws IOException {
        return StoredFileCheck.sizeProblem(repository.storage().stat(key), listed.size(), backup.location());
    }

    private static String shaProblem(StoredFileReader.Outcome read, BackupManifest.BackupFile listed) {
        return StoredFileCheck.contentProblem(read.storedBytes(), read.sha256(), listed.size(), listed.sha256());
    }

    private static String unreadable(Compression compression, Exception e) {
        return "does not read to its end (" + describe(compression) + " or tar is damaged): " + message(e);
    }

    static String describe(Compression compression) {
        return compression == Compression.NONE ? "the file" : compression.cliName() + " stream";
    }

    private static String summarise(List<String> problems) {
        String shown = String.join("; ", problems.subList(0, Math.min(PROBLEMS_SHOWN, problems.size())));
        return problems.size() > PROBLEMS_SHOWN ? shown + " (and " + (problems.size() - PROBLEMS_SHOWN) + " more)" : shown;
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        return m.strip().lines().findFirst().orElse(m);
    }

    static Duration since(Instant start) {
        return Duration.between(start, Instant.now());
    }
}
