package io.pgbackup.core.internal.restore;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.RepositoryJson;
import io.pgbackup.core.restore.RestoreInProgress;
import io.pgbackup.core.restore.RestorePlan;
import io.pgbackup.core.storage.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The repository's {@code restores/} area: one marker per restore whose recovery may still read the
 * repository (through restore_wal.sh or wal-fetch), so that cleanup keeps the backup and the WAL
 * replay needs. Restore writes it before extracting and again when done; while replay runs,
 * restore_wal.sh (a local repository: {@code touch}) and wal-fetch (a bucket: a rewrite, at most once
 * a minute) renew it; recovery_end_command removes it. It lives {@link #TTL} past its last renewal,
 * so a restore that died stops protecting by itself.
 *
 * <p>Its expiry is the object's modification time plus its {@code ttlSeconds} (clamped to
 * {@link #MAX_TTL}): what the shell can renew without writing JSON. A marker that cannot be read is
 * untrusted input: it protects everything until {@link #TTL} past its modification time, never less.
 *
 * <p>The restored data directory names its marker in {@value #POINTER} (PostgreSQL runs both
 * commands in PGDATA).
 */
public final class RestoreMarkers {
    private static final Logger log = LoggerFactory.getLogger(RestoreMarkers.class);
    private static final ObjectMapper JSON = RepositoryJson.newMapper();
    public static final String PREFIX = "restores/";
    /** How long a marker protects after its last renewal: a restored server started within a day is covered. */
    public static final Duration TTL = Duration.ofHours(24);
    /** A marker claiming more is read as claiming this much. */
    static final Duration MAX_TTL = Duration.ofDays(7);
    /** Renewals closer together than this are skipped: replay may ask for hundreds of segments a minute. */
    static final Duration RENEW_AFTER = Duration.ofMinutes(1);
    /** In the restored PGDATA: the marker's id, for restore_wal.sh and wal-fetch. */
    public static final String POINTER = "pg_wal/pgbackup_restore";
    /** Markers are a few hundred bytes; a bigger one is not read (untrusted input). */
    private static final long MAX_SIZE = 64 * 1024;
    private static final Pattern ID = Pattern.compile("\\d{8}_\\d{6}-[0-9a-f]{8}");

    private RestoreMarkers() {
    }

    /** The marker's content. */
    record Content(int version, String backup, int timeline, String startWal, String target, String targetDir,
                   String host, long pid, Instant started, Instant renewed, long ttlSeconds) {
    }

    static String key(String id) {
        return PREFIX + id + ".json";
    }

    /** Writes the marker of a restore of {@code plan} about to start; returns its id. */
    static String begin(Repository repository, RestorePlan plan, Clock clock) throws IOException {
        String id = plan.backup().id() + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Instant now = clock.instant();
        Content content = new Content(1, plan.backup().id(), plan.backup().manifest().timeline(),
                plan.backup().manifest().startWalFile(), plan.target().describe(), plan.targetDir().toString(), host(),
                ProcessHandle.current().pid(), now, now, TTL.toSeconds());
        write(repository, id, content);
        return id;
    }

    /** {@link #begin}, failing the restore with one line when the marker cannot be written (nothing extracted yet). */
    static String beginOrFail(Repository repository, RestorePlan plan, Clock clock) {
        try {
            return begin(repository, plan, clock);
        } catch (IOException e) {
            throw Repository.ioFailure("cannot write the restore marker in " + repository.locationOf(PREFIX)
                    + " (it keeps cleanup from deleting what replay needs)", e);
        }
    }

    /** A failed restore's marker goes; if it cannot, it expires. */
    static void endQuietly(Repository repository, String id) {
        try {
            end(repository, id);
        } catch (IOException | RuntimeException e) {
            log.warn("could not remove restore marker {}: {}; it expires within {} h", key(id), e.getMessage(), TTL.toHours());
        }
    }

    /** Restore is done: the marker lives {@link #TTL} from now, and PGDATA names it for replay. */
    static void extracted(Repository repository, String id, Path targetDir, Clock clock) throws IOException {
        renew(repository, id, clock, true);
        io.pgbackup.core.internal.storage.AtomicFiles.write(targetDir.resolve(POINTER), (id + "\n").getBytes(StandardCharsets.UTF_8),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    /** Removes a marker (a restore that failed, or a recovery that ended); false when it was gone. */
    public static boolean end(Repository repository, String id) throws IOException {
        return isId(id) && repository.storage().delete(key(id));
    }

    /**
     * Called while replay runs (wal-fetch, fetch-ahead) with the restored cluster's {@code pg_wal}:
     * renews the marker it names when this repository holds it and it was last renewed more than
     * {@link #RENEW_AFTER} ago. Never fails the fetch: a marker that cannot be renewed only expires.
     */
    public static void renewFrom(Repository repository, Path pgWal, Clock clock) {
        try {
            // The fetch-ahead writes into pg_wal/pgbackup_prefetch, wal-fetch into pg_wal.
            Path dir = pgWal.getFileName() != null && pgWal.getFileName().toString().equals("pgbackup_prefetch")
                    ? pgWal.getParent() : pgWal;
            Path pointer = dir.resolveSibling(POINTER);
            if (!Files.isRegularFile(pointer)) {
                return;
            }
            String id = Files.readString(pointer, StandardCharsets.UTF_8).strip();
            if (isId(id)) {
                renew(repository, id, clock, false);
            }
        } catch (IOException | RuntimeException e) {
            log.debug("restore marker not renewed: {}", e.getMessage());
        }
    }

    /** Removes the marker PGDATA names, at the end of recovery; the pointer goes too. */
    public static void endFrom(Repository repository, Path pgData) throws IOException {
        Path pointer = pgData.resolve(POINTER);
        if (Files.isRegularFile(pointer)) {
            end(repository, Files.readString(pointer, StandardCharsets.UTF_8).strip());
            Files.deleteIfExists(pointer);
        }
    }

    private static void renew(Repository repository, String id, Clock clock, boolean always) throws IOException {
        Optional<Storage.StoredObject> stored = repository.storage().stat(key(id));
        if (stored.isEmpty()) {
            return; // ended, or cleaned up after it expired: never brought back
        }
        if (!always && stored.get().lastModified().plus(RENEW_AFTER).isAfter(clock.instant())) {
            return;
        }
        Content old = JSON.readValue(repository.storage().read(key(id)), Content.class);
        write(repository, id, new Content(old.version(), old.backup(), old.timeline(), old.startWal(), old.target(),
                old.targetDir(), old.host(), old.pid(), old.started(), clock.instant(), old.ttlSeconds()));
    }

    private static void write(Repository repository, String id, Content content) throws IOException {
        // LocalStorage: a temporary file, fsynced, renamed, owner-only; a bucket: visible only when whole.
        repository.put(key(id), JSON.writeValueAsBytes(content));
    }

    static boolean isId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /**
     * Every marker in the repository, live or not. One that cannot be read is reported with its
     * problem and the default lifetime from its modification time.
     */
    public static List<RestoreInProgress> list(Repository repository) throws IOException {
        List<RestoreInProgress> found = new ArrayList<>();
        for (Storage.StoredObject o : repository.storage().list(PREFIX)) {
            if (o.name().startsWith(".")) {
                continue; // a marker being written
            }
            found.add(read(repository, o));
        }
        return found;
    }

    private static RestoreInProgress read(Repository repository, Storage.StoredObject o) {
        Instant modified = o.lastModified();
        String problem;
        try {
            String name = o.key().substring(PREFIX.length());
            if (!name.endsWith(".json") || !isId(name.substring(0, name.length() - ".json".length()))) {
                throw new IOException("not a marker name");
            }
            if (o.size() > MAX_SIZE) {
                throw new IOException(o.size() + " bytes, far more than a marker holds");
            }
            Content c = JSON.readValue(repository.storage().read(o.key()), Content.class);
            if (!Repository.isBackupId(c.backup()) || c.timeline() < 1 || c.startWal() == null
                    || !c.startWal().matches("[0-9A-F]{24}") || Long.parseLong(c.startWal().substring(0, 8), 16) != c.timeline()) {
                throw new IOException("it does not name a backup, its timeline and its first WAL segment");
            }
            long ttl = Math.min(Math.max(c.ttlSeconds(), RENEW_AFTER.toSeconds()), MAX_TTL.toSeconds());
            return new RestoreInProgress(o.key(), c.backup(), c.timeline(), c.startWal(), c.target(), c.targetDir(), c.host(),
                    c.started(), modified.plusSeconds(ttl), null);
        } catch (IOException | RuntimeException e) {
            problem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip().split("\\R", 2)[0];
        }
        return new RestoreInProgress(o.key(), null, 0, null, null, null, null, null, modified.plus(TTL), problem);
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
