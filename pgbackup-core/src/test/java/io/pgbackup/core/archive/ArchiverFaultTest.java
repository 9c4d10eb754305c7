package io.pgbackup.core.archive;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.LocalStorage;
import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.testing.ArchiverMain;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import io.pgbackup.core.verify.VerifyReport;
import io.pgbackup.core.verify.VerifyRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The archiver (PG_BACKUP_ARCHIVER=async) under the faults of issue 11, against real clusters,
 * real processes (and, in pgbackup-s3's ArchiverS3FaultTest, a real S3 server). After each fault: no WAL is lost (every segment from the
 * first archived to the last switched is in the archive, each complete), no partial file is under
 * a final name, and a backup taken afterwards verifies.
 */
class ArchiverFaultTest {
    private static final long SEGMENT_BYTES = 16L << 20;
    static final Duration LONG = Duration.ofMinutes(3);

    @TempDir
    Path work;

    @Test
    void killNineMidSegmentLeavesNoPartialFileAndTheNextCallReArchives() throws Exception {
        // One worker, so the kill lands while exactly one segment is being written.
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(1).withIdleExitSeconds(120))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            source.switchAndAwaitArchived();
            Path archive = source.repository().resolve("wal_archive");

            Optional<Path> partial = Optional.empty();
            for (int attempt = 0; attempt < 5 && partial.isEmpty(); attempt++) {
                writeSegments(pg, 4);
                // Kill as soon as a segment is half written under its temporary name.
                partial = awaitFile(archive, n -> n.startsWith(".") && n.contains(".tmp"), Duration.ofSeconds(30));
            }
            assertThat(partial).as("the archiver was caught writing a segment").isPresent();
            long pid = archiverPid(source);
            kill9(pid);

            String segment = partial.get().getFileName().toString().replaceAll("^\\.([0-9A-F]{24}).*$", "$1");
            // Only complete segments under final names: completeSegments decompresses each and checks its length.
            // The segment the kill interrupted may be among them all the same, and whole: finished between the
            // poll that saw its temporary file and the kill (that file then gone, or a second name of the
            // published one when killed between link(2) and unlink(2)), or archived again meanwhile by a new
            // archiver that PostgreSQL's retry of the interrupted archive_command started (then the killed
            // one's temporary file stays beside it, a leftover cleanup removes). Never the interrupted write.
            completeSegments(new LocalStorage(source.repository()));

            // PostgreSQL's next call finds no archiver, starts one, and that one re-archives the segment.
            String last = pg.switchWal();
            awaitArchived(pg, last);
            assertThat(source.pgBackup().archiver().state().orElseThrow().pid()).isNotEqualTo(pid);
            assertNoGap(new LocalStorage(source.repository()), last).containsKey(segment);
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    @Test
    void anArchiverDyingWithAcknowledgementsPendingLosesNothing() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(120))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            source.switchAndAwaitArchived();

            // PostgreSQL stops asking (an empty archive_command pauses archiving); the archiver looks
            // ahead over .ready anyway, so its acknowledgements pile up unconsumed.
            setArchiveCommand(pg, "");
            List<String> written = writeSegments(pg, 3);
            Path ackDir = io.pgbackup.core.internal.archive.ArchiveSpool.ackDirOf(source.repository(), source.cluster().dataDir());
            PgCluster.await(LONG, "acknowledgements of " + written + " waiting in the spool",
                    () -> written.stream().allMatch(n -> Files.exists(ackDir.resolve(n + ".ok"))));
            long pid = archiverPid(source);
            kill9(pid);
            // The spool is lost along with the archiver: only the repository remembers what was stored.
            try (Stream<Path> acks = Files.list(ackDir)) {
                for (Path ack : acks.toList()) {
                    Files.delete(ack);
                }
            }
            assertThat(pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")).isLessThan(written.get(0));

            setArchiveCommand(pg, null);
            String last = pg.switchWal();
            awaitArchived(pg, last);
            assertNoGap(new LocalStorage(source.repository()), last).containsKeys(written.toArray(String[]::new));
            // Each pending segment was archived again by the next archiver: an identical copy is success.
            // The archiver logs right after acknowledging: wait for the lines rather than race them.
            Path logFile = source.repository().resolve("logs/wal_archive.log");
            PgCluster.await(Duration.ofSeconds(10), "already-archived lines for " + written, () -> {
                String log = Files.readString(logFile);
                return written.stream().allMatch(n -> log.contains(n + " already-archived archiver"));
            });
            assertThat(source.pgBackup().archiver().state().orElseThrow().pid()).isNotEqualTo(pid);
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    @Test
    void aFullRepositoryDiskStopsArchivingWithoutDroppingWalAndDrainsOnceSpaceReturns() throws Exception {
        assumeTrue(userNamespacesWork(), "unshare -rm (unprivileged user and mount namespaces) is not available here");
        SmallDisk disk = new SmallDisk(work.resolve("repo/wal_archive"), work.resolve("free-space"));
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(120),
                c -> c, disk.launcher(), b -> b, Map.of())) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            List<String> written = writeSegments(pg, 3);
            String firstStuck = written.get(0);

            PgCluster.await(LONG, "PostgreSQL to see archiving fail",
                    () -> pg.queryLong("SELECT failed_count FROM pg_stat_archiver") > 0);
            PgCluster.await(LONG, "the archiver to say why it is stuck", () -> source.pgBackup().archiver().state()
                    .map(s -> s.stuck() && s.lastError().toLowerCase().contains("no space left on device")).orElse(false));
            PgCluster.await(LONG, "archive_wal.sh to log the error acknowledgement", () -> scriptErrors(source).stream()
                    .anyMatch(l -> l.toLowerCase().contains("no space left on device")));
            long failures = pg.queryLong("SELECT failed_count FROM pg_stat_archiver");
            PgCluster.await(LONG, "PostgreSQL to keep retrying",
                    () -> pg.queryLong("SELECT failed_count FROM pg_stat_archiver") > failures);

            // Nothing was dropped: every written segment is still in pg_wal, still .ready, and not reported archived.
            for (String name : written) {
                assertThat(pg.dataDir().resolve("pg_wal").resolve(name)).exists();
                assertThat(pg.dataDir().resolve("pg_wal/archive_status").resolve(name + ".ready")).exists();
            }
            String lastArchived = pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
            assertThat(lastArchived).isLessThan(firstStuck);
            assertThat(completeSegments(new LocalStorage(source.repository()))).isEmpty();

            disk.free();
            String last = pg.switchWal();
            awaitArchived(pg, last);
            assertNoGap(new LocalStorage(source.repository()), last).containsKeys(written.toArray(String[]::new));
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    @Test
    void aFullSpoolDiskNeverReportsArchivedAndDrainsOnceSpaceReturns() throws Exception {
        assumeTrue(userNamespacesWork(), "unshare -rm (unprivileged user and mount namespaces) is not available here");
        SmallDisk disk = new SmallDisk(io.pgbackup.core.internal.archive.ArchiveSpool.ackDirOf(work.resolve("repo"), work.resolve("pg/data")), work.resolve("free-space"));
        try (ArchivingCluster source = ArchivingCluster.createAsync(work,
                a -> a.withWorkers(2).withIdleExitSeconds(120).withAckTimeoutSeconds(5), c -> c, disk.launcher(), b -> b, Map.of())) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            List<String> written = writeSegments(pg, 2);

            PgCluster.await(LONG, "PostgreSQL to see archiving fail",
                    () -> pg.queryLong("SELECT failed_count FROM pg_stat_archiver") > 1);
            PgCluster.await(LONG, "the archiver to say why it is stuck", () -> source.pgBackup().archiver().state()
                    .map(s -> s.stuck() && s.lastError().toLowerCase().contains("no space left on device")).orElse(false));
            // Stored in the repository maybe, but never acknowledged: PostgreSQL was told nothing was archived.
            assertThat(pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")).isLessThan(written.get(0));
            assertThat(source.pgBackup().archiver().state().orElseThrow().acknowledged()).isZero();
            assertThat(Files.readString(source.repository().resolve("logs/wal_archive.log"))).doesNotContain(" archived archiver");
            for (String name : written) {
                assertThat(pg.dataDir().resolve("pg_wal/archive_status").resolve(name + ".ready")).exists();
            }

            disk.free();
            String last = pg.switchWal();
            awaitArchived(pg, last);
            assertNoGap(new LocalStorage(source.repository()), last).containsKeys(written.toArray(String[]::new));
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    @Test
    void aSecondClusterOnTheSameRepositoryIsRefusedAndTheFirstArchiveIsUntouched() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(2))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            writeSegments(pg, 2);
            String firstLast = source.switchAndAwaitArchived();
            LocalStorage repo = new LocalStorage(source.repository());
            Map<String, String> before = digests(repo);
            assertThat(before).isNotEmpty();
            // Let the first cluster's archiver go idle and exit, so the second cluster's script starts its own.
            source.stopArchiver();

            try (PgCluster other = PgCluster.create(work.resolve("pg2"))) {
                other.appendSettings(Map.of("archive_mode", "on", "archive_command",
                        "'" + source.pgBackup().archiveSetup().archiveCommand().replace("'", "''") + "'"));
                other.restart();
                String otherId = other.queryString("SELECT system_identifier::text FROM pg_control_system()");
                String firstId = pg.queryString("SELECT system_identifier::text FROM pg_control_system()");
                other.execute("CREATE TABLE intruder AS SELECT g FROM generate_series(1, 1000) g");
                other.switchWal();

                PgCluster.await(LONG, "the second cluster's segments to be refused",
                        () -> other.queryLong("SELECT failed_count FROM pg_stat_archiver") > 0);
                PgCluster.await(LONG, "the refusal naming the system identifiers", () -> scriptErrors(source).stream()
                        .anyMatch(l -> l.contains("refused") && l.contains(otherId) && l.contains(firstId)));
                assertThat(other.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")).isEmpty();
                // The first cluster's archive: the same files with the same bytes.
                assertThat(digests(repo)).isEqualTo(before);

                // The first cluster keeps archiving, the second one still configured and refused.
                writeSegments(pg, 1);
                String last = pg.switchWal();
                awaitArchived(pg, last);
                assertThat(other.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")).isEmpty();
                Map<String, String> after = digests(repo);
                before.forEach((k, v) -> assertThat(after).containsEntry(k, v));
                assertNoGap(repo, last).containsKey(firstLast);
            }
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    @Test
    void theOtherClustersAcknowledgementOfASegmentOfTheSameNameIsNotTaken() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(120))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            source.switchAndAwaitArchived();
            // The first cluster's archiver acknowledges ahead of its PostgreSQL (paused here).
            setArchiveCommand(pg, "");
            List<String> written = writeSegments(pg, 4);
            Path ackDir = io.pgbackup.core.internal.archive.ArchiveSpool.ackDirOf(source.repository(), source.cluster().dataDir());
            PgCluster.await(LONG, "acknowledgements of " + written + " waiting in the spool",
                    () -> written.stream().allMatch(n -> Files.exists(ackDir.resolve(n + ".ok"))));

            try (PgCluster other = PgCluster.create(work.resolve("pg2"))) {
                // The second cluster's next segment gets the name of the first one's acknowledged segment
                // (both start at 000000010000000000000001); the older ones leave with the shutdown checkpoint.
                while (other.queryString("SELECT pg_walfile_name(pg_current_wal_lsn())").compareTo(written.get(0)) < 0) {
                    other.switchWal();
                }
                other.appendSettings(Map.of("archive_mode", "on", "archive_command",
                        "'" + source.pgBackup().archiveSetup().archiveCommand().replace("'", "''") + "'"));
                other.restart();
                String asked = other.switchWal();
                assertThat(written).as("the second cluster's first segment to archive has a name the first acknowledged")
                        .contains(asked);

                PgCluster.await(LONG, "the second cluster's archive_command to answer", () -> other.queryLong(
                        "SELECT failed_count + archived_count FROM pg_stat_archiver") > 0);
                assertThat(other.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"))
                        .as("the second cluster's %s is not archived", asked).isEmpty();
                assertThat(written).as("left for the cluster they belong to").allMatch(n -> Files.exists(ackDir.resolve(n + ".ok")));
            }
            setArchiveCommand(pg, null);
            String last = pg.switchWal();
            awaitArchived(pg, last);
            assertNoGap(new LocalStorage(source.repository()), last).containsKeys(written.toArray(String[]::new));
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    @Test
    void postgresRestartedFastAndImmediateWhileTheArchiverRunsLosesNothing() throws Exception {
        try (ArchivingCluster source = ArchivingCluster.createAsync(work, a -> a.withWorkers(2).withIdleExitSeconds(300))) {
            PgCluster pg = source.cluster();
            pg.execute("CREATE TABLE t (id int, pad text)");
            source.switchAndAwaitArchived();

            writeSegments(pg, 2);
            pg.stop();
            pg.start();
            writeSegments(pg, 2);
            // Crash: no shutdown checkpoint; recovery replays and PostgreSQL asks again for what it had not confirmed.
            pg.stopImmediately();
            pg.start();
            writeSegments(pg, 2);

            String last = pg.switchWal();
            awaitArchived(pg, last);
            assertNoGap(new LocalStorage(source.repository()), last);
            // Detached from PostgreSQL, the archiver is not killed with it: it finishes what it holds and
            // exits once the cluster is down; the first archive call after the restart starts another.
            assertThat(archiverPid(source)).isPositive();
            assertBackupVerifies(source, source.pgBackup());
        }
    }

    // ---- helpers ----

    /** Writes about a segment of poorly compressible WAL {@code n} times, switching after each; returns the finished segments. */
    static List<String> writeSegments(PgCluster pg, int n) throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            pg.execute("INSERT INTO t SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 120000) g");
            names.add(pg.switchWal());
        }
        return names;
    }

    private static void setArchiveCommand(PgCluster pg, String command) throws Exception {
        pg.execute(command == null ? "ALTER SYSTEM RESET archive_command" : "ALTER SYSTEM SET archive_command = '" + command + "'",
                "SELECT pg_reload_conf()");
    }

    static void awaitArchived(PgCluster pg, String segment) throws Exception {
        PgCluster.await(LONG, "archiving of " + segment, () ->
                pg.queryString("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").compareTo(segment) >= 0);
    }

    private static long archiverPid(ArchivingCluster source) throws Exception {
        Path pidFile = io.pgbackup.core.internal.archive.ArchiveSpool.pidFileOf(source.repository(), source.cluster().dataDir());
        PgCluster.await(Duration.ofSeconds(60), "the archiver's pid file", () -> Files.exists(pidFile));
        return Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
    }

    private static void kill9(long pid) throws Exception {
        ProcessHandle p = ProcessHandle.of(pid).orElseThrow();
        assertThat(p.destroyForcibly()).isTrue();
        p.onExit().get(30, TimeUnit.SECONDS);
    }

    private static Optional<Path> awaitFile(Path dir, java.util.function.Predicate<String> name, Duration limit) throws Exception {
        Instant deadline = Instant.now().plus(limit);
        while (Instant.now().isBefore(deadline)) {
            try (Stream<Path> files = Files.list(dir)) {
                Optional<Path> found = files.filter(f -> name.test(f.getFileName().toString())).findFirst();
                if (found.isPresent()) {
                    return found;
                }
            }
            Thread.sleep(2);
        }
        return Optional.empty();
    }

    /** The WAL segments under final names in {@code storage}'s wal_archive/, each checked to decompress to a whole segment. */
    static TreeMap<String, String> completeSegments(Storage storage) throws IOException {
        TreeMap<String, String> segments = new TreeMap<>();
        for (Storage.StoredObject o : storage.list(Repository.WAL_PREFIX)) {
            String name = o.name();
            if (!name.matches("[0-9A-F]{24}(\\.[a-z0-9]+)?")) {
                continue;
            }
            long size;
            try (InputStream in = Compression.ofSuffix(name).orElse(Compression.NONE).decompress(storage.open(o.key()))) {
                size = in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            assertThat(size).as("%s is a whole segment, not a partial file under a final name", o.key()).isEqualTo(SEGMENT_BYTES);
            segments.put(name.substring(0, 24), o.key());
        }
        return segments;
    }

    /** Every segment from the first archived to {@code last} is in the archive, complete. */
    static org.assertj.core.api.MapAssert<String, String> assertNoGap(Storage storage, String last) throws IOException {
        TreeMap<String, String> segments = completeSegments(storage);
        assertThat(segments).containsKey(last);
        long first = segmentNumber(segments.firstKey());
        List<String> missing = new ArrayList<>();
        for (long n = first; n <= segmentNumber(last); n++) {
            String name = last.substring(0, 8) + String.format("%08X%08X", n >>> 8, n & 0xFF);
            if (!segments.containsKey(name)) {
                missing.add(name);
            }
        }
        assertThat(missing).as("segments missing between %s and %s", segments.firstKey(), last).isEmpty();
        return assertThat(segments);
    }

    private static long segmentNumber(String name) {
        return Long.parseLong(name.substring(8, 16), 16) * 0x100 + Long.parseLong(name.substring(16, 24), 16);
    }

    /** verify --all: a backup taken now, the WAL after it archived, then every backup and the WAL chain checked. */
    static void assertBackupVerifies(ArchivingCluster source, PgBackup pgBackup) throws Exception {
        pgBackup.backups().backup(BackupOptions.defaults());
        String last = source.cluster().switchWal();
        awaitArchived(source.cluster(), last);
        VerifyReport report = pgBackup.verifier().verify(VerifyRequest.every());
        assertThat(report.ok()).as(report.toString()).isTrue();
    }

    /** archive_wal.sh's own error lines (the acknowledgements it consumed), not the archiver's. */
    private static List<String> scriptErrors(ArchivingCluster source) throws IOException {
        Path log = source.repository().resolve("logs/wal_archive.log");
        if (!Files.exists(log)) {
            return List.of();
        }
        return Files.readAllLines(log).stream().filter(l -> l.contains(" ERROR ") && l.contains(" failed size=")).toList();
    }

    private static Map<String, String> digests(LocalStorage repo) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (Storage.StoredObject o : repo.list(Repository.WAL_PREFIX)) {
            try (InputStream in = repo.open(o.key())) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(in.readAllBytes());
                out.put(o.key(), HexFormat.of().formatHex(md.digest()));
            }
        }
        return out;
    }

    private static boolean userNamespacesWork() {
        try {
            Process p = new ProcessBuilder("unshare", "-rm", "true").redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * A full disk that only the archiver sees: its launcher mounts a tmpfs over {@code dir} in a
     * user and mount namespace of its own ({@code unshare -rm}, no root) and fills it, blocks and
     * inodes, so every write there fails with ENOSPC. {@link #free()} makes the launcher unmount it
     * under the running archiver, whose writes then land in the real directory again; an archiver
     * started after that runs without it. Nothing is ever stored on the tmpfs, so nothing archived
     * is lost with it.
     */
    private static final class SmallDisk {
        private final Path dir;
        private final Path freeFlag;

        SmallDisk(Path dir, Path freeFlag) {
            this.dir = dir;
            this.freeFlag = freeFlag;
        }

        List<String> launcher() {
            String script = """
                    set -u
                    if [ ! -e "$FREE" ]; then
                        mkdir -p "$DIR" && mount -t tmpfs -o size=64k,nr_inodes=16,mode=0700 tmpfs "$DIR" || exit 3
                        dd if=/dev/zero of="$DIR/.fill" bs=4k 2>/dev/null
                        i=0
                        while touch "$DIR/.fill$i" 2>/dev/null; do i=$((i + 1)); done
                    fi
                    "$@" &
                    child=$!
                    trap 'kill -TERM $child 2>/dev/null' TERM INT
                    while kill -0 $child 2>/dev/null; do
                        if [ -e "$FREE" ] && mountpoint -q "$DIR"; then umount -l "$DIR"; fi
                        sleep 0.2
                    done
                    wait $child
                    """;
            List<String> words = new ArrayList<>(List.of("env", "DIR=" + dir, "FREE=" + freeFlag,
                    "unshare", "-rm", "sh", "-c", script, "small-disk"));
            words.addAll(ArchiverMain.launcher());
            return words;
        }

        void free() throws IOException {
            Files.writeString(freeFlag, "");
        }
    }
}
