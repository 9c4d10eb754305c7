package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupScan;

import io.pgbackup.core.backup.BackupManager;

import io.pgbackup.core.backup.BackupInfo;

import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupPlan;
import io.pgbackup.core.backup.BackupType;
import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.internal.incremental.ChainPlanner;
import io.pgbackup.core.internal.incremental.ChainSettings;
import java.util.Optional;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.internal.postgres.ServerInfo;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link BackupManager} over the repository: backups are taken by the {@link BackupEngine} under
 * the repository's lease, and read back through the {@link BackupCatalog}.
 */
public final class DefaultBackupManager implements BackupManager {
    private static final Logger log = LoggerFactory.getLogger(DefaultBackupManager.class);
    private static final DateTimeFormatter ID_FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss");

    private static final ChainPlanner.Decision FULL = new ChainPlanner.Decision(
            new BackupPlan(BackupManifest.FULL, "full", null, List.of(), "asked for"), Optional.empty());

    private final PgBackupContext context;
    private BackupCatalog catalog;

    public DefaultBackupManager(PgBackupContext context) {
        this.context = context;
    }

    /** Made on first use, not in the constructor: opening the repository reads the wrap key (perhaps runs its command). */
    private synchronized BackupCatalog catalog() {
        if (catalog == null) {
            catalog = new BackupCatalog(context.repository());
        }
        return catalog;
    }

    @Override
    public BackupInfo backup(BackupOptions options) {
        if (context.config().encryption().enabled()) {
            io.pgbackup.core.internal.crypto.CipherWarmUp.inBackground();
        }
        Repository repository = context.repository();
        repository.requireInitialized();
        io.pgbackup.core.internal.crypto.PlainWriteGuard.refuseIfSealed(repository.storage(), "backup");
        Compression compression = options.compression().orElse(context.config().compression());
        try (Storage.Lease ignored = repository.lease("backup", context.clock())) {
            removeIncomplete(repository);
            // The server's identity is read over JDBC while the transfer already runs; a foreign
            // cluster stops it and what was stored goes.
            CompletableFuture<BackupRun.ServerFacts> server = CompletableFuture.supplyAsync(() -> {
                BackupRun.ServerFacts facts = readServer();
                catalog().refuseForeignCluster(facts.info().systemIdentifier());
                return facts;
            }, task -> Pools.start("pgbackup-server-check", task));
            // A diff or incr is planned on the server's facts before the transfer starts: the page filter needs its parent.
            ChainPlanner.Decision decision = options.type() == BackupType.FULL ? FULL
                    : decide(options, joined(server));
            IncrementalPath.Chosen path = decision.parent().isEmpty() ? new IncrementalPath.Chosen(decision, null, Optional.empty(),
                    Optional.empty()) : IncrementalPath.choose(context, decision, joined(server));
            OffsetDateTime start = OffsetDateTime.now(context.clock());
            BackupRun run = new BackupRun(freeId(repository, start.toLocalDateTime()), start, compression, options, server,
                    path.decision(), path.rule(), path.method(), path.parentManifest());
            BackupEngine engine = new BackupEngine(repository, new ReplicationSource(context.config()), context.clock());
            AtomicBoolean finished = new AtomicBoolean();
            // Ctrl-C or SIGTERM: what was stored goes (the manifest is never written, so it is never listed either way).
            Thread cleanup = new Thread(() -> {
                if (!finished.get()) {
                    deleteQuietly(repository, run.id());
                }
            }, "pgbackup-backup-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
            try {
                try {
                    return engine.run(run);
                } catch (SummariesRefused e) {
                    log.warn("the server refused an incremental backup from WAL summaries ({}): taking it by page LSNs",
                            e.getMessage());
                    return engine.run(run.with(IncrementalPath.pageLsn(repository, decision, "the server refused: " + e.getMessage())));
                }
            } finally {
                finished.set(true);
                removeHook(cleanup);
            }
        }
    }

    @Override
    public BackupPlan plan(BackupOptions options) {
        context.repository().requireInitialized();
        if (options.type() == BackupType.FULL) {
            return FULL.plan();
        }
        BackupRun.ServerFacts facts = readServer();
        catalog().refuseForeignCluster(facts.info().systemIdentifier());
        return decide(options, facts).plan();
    }

    private ChainPlanner.Decision decide(BackupOptions options, BackupRun.ServerFacts facts) {
        String checksums = facts.info().setting("data_checksums");
        ChainPlanner.Server server = new ChainPlanner.Server(facts.info().systemIdentifier(), facts.info().versionNum(),
                facts.info().timeline(), checksums.isEmpty() ? null : "on".equals(checksums), IncrementalPath.summarizing(facts));
        WalArchive archive = WalArchive.sharded(context.repository());
        ChainPlanner.Decision decision = new ChainPlanner(ChainSettings.of(context.config()))
                .plan(options.type(), catalog().list(), server, OffsetDateTime.now(context.clock()), archive.timelines()::history);
        // The page filter reads the parent's file list, sealed like the rest: a host holding only the
        // public key cannot open it, so it takes fulls (as it must, to never read what it backs up).
        if (decision.parent().isPresent() && parentListSealedHere(decision.parent().get())) {
            decision = new ChainPlanner.Decision(new BackupPlan(BackupManifest.FULL, options.type().cliName(), null, List.of(),
                    "this host holds only the public encryption key and cannot open the parent's sealed file list"), Optional.empty());
        }
        if (decision.plan().isFull() && options.type() != BackupType.AUTO) {
            log.warn("taking a full backup instead of {}: {}", options.type().cliName(), decision.plan().reason());
        }
        return decision;
    }

    private static BackupRun.ServerFacts joined(CompletableFuture<BackupRun.ServerFacts> server) {
        try {
            return server.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    @Override
    public List<BackupInfo> list() {
        return catalog().list();
    }

    @Override
    public BackupScan scan() {
        return catalog().scan();
    }

    @Override
    public BackupInfo get(String id) {
        return catalog().get(id);
    }

    private BackupRun.ServerFacts readServer() {
        try (Connection connection = context.connector().open(); Statement st = connection.createStatement()) {
            ServerInfo info = ServerInfo.read(connection);
            long size;
            try (ResultSet rs = st.executeQuery("SELECT sum(pg_database_size(oid))::bigint FROM pg_database")) {
                rs.next();
                size = rs.getLong(1);
            }
            // wal_compression offers zstd exactly where the server was built with it.
            try (ResultSet rs = st.executeQuery("SELECT coalesce(bool_or('zstd' = ANY(enumvals)), false) FROM pg_settings"
                    + " WHERE name = 'wal_compression'")) {
                rs.next();
                return new BackupRun.ServerFacts(info, size, rs.getBoolean(1));
            }
        } catch (SQLException e) {
            throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot read the server's identity: " + e.getMessage(), e);
        }
    }

    /** Ids are the start time to the second; a second backup within the same second takes the next free one. */
    private static String freeId(Repository repository, LocalDateTime start) {
        LocalDateTime candidate = start;
        while (repository.isIdTaken(ID_FORMAT.format(candidate))) {
            candidate = candidate.plusSeconds(1);
        }
        return ID_FORMAT.format(candidate);
    }

    /** With the lease held no backup runs, so an incomplete one, or an old staging directory, is a crashed run's leftover. */
    private static void removeIncomplete(Repository repository) {
        Repository.BaseListing base = repository.listBase();
        for (Map.Entry<String, List<Storage.StoredObject>> e : base.incomplete().entrySet()) {
            log.warn("removing the incomplete backup {} left by an interrupted run", e.getKey());
            deleteAll(repository, e.getValue());
        }
        base.leftovers().forEach((entry, objects) -> {
            if (Repository.BaseListing.isStaging(entry)) {
                log.warn("removing base/{} left by an interrupted backup", entry);
                deleteAll(repository, objects);
            }
        });
    }

    private static void deleteAll(Repository repository, List<Storage.StoredObject> objects) {
        try {
            repository.deleteAll(objects.stream().map(Storage.StoredObject::key).toList());
        } catch (IOException e) {
            throw Repository.ioFailure("cannot clean up interrupted backups in " + repository.locationOf("base"), e);
        }
    }

    private static void deleteQuietly(Repository repository, String id) {
        try {
            List<String> keys = repository.storage().list(Repository.backupKey(id) + "/").stream().map(Storage.StoredObject::key).toList();
            repository.deleteAll(keys);
        } catch (IOException | RuntimeException e) {
            log.warn("could not remove backup {}: {}", id, e.getMessage());
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already exiting; the hook runs and finds the backup finished
        }
    }

    private boolean parentListSealedHere(BackupManifest parent) {
        String key = Repository.backupFileKey(parent.id(), parent.fileList() != null ? parent.fileList() : "backup_manifest");
        try {
            return io.pgbackup.core.internal.crypto.ReadCheck.sealedWithoutKey(context.repository(), key);
        } catch (IOException e) {
            return false; // reading the list itself then says what is wrong
        }
    }
}
