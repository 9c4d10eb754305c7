package io.pgbackup.core.internal.restore;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.verify.PostgresManifest;
import io.pgbackup.core.internal.storage.BackgroundFsync;
import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.restore.RestorePlan;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** The roots of a chain or delta restore, each reassembled on a thread of its own, and the manifest of the result. */
final class ChainRoots {
    private ChainRoots() {
    }

    /**
     * Queues the data directory and each tablespace; a delta restore's pg_wal is emptied first (its
     * WAL comes from the newest backup's pg_wal.tar only).
     */
    static void add(List<Callable<Long>> tasks, Repository repository, RestorePlan plan, RestoreChain chain,
                    BackgroundFsync fsync, ProgressCounter counter, Map<String, String> verified) throws IOException {
        Path dir = plan.targetDir();
        if (chain.delta()) {
            ChainExtractor.emptyWal(dir);
        }
        Set<String> links = plan.tablespaces().stream().map(t -> "pg_tblspc/" + t.oid()).collect(Collectors.toSet());
        Predicate<String> keepInData = rel -> rel.equals("pg_wal") || links.contains(rel);
        // A delta of a diff/incr whose newest backup_manifest vouches for every file: the full's tar only where needed.
        Map<String, PostgresManifest.Entry> reference = VerifiedDelta.reference(repository, chain);
        Root root = new Root(repository, chain, reference, fsync, counter, verified);
        tasks.add(root.task(b -> RestoreExecutor.fileOf(b.manifest(), "base.tar"), dir, "", keepInData));
        for (RestorePlan.TablespaceTarget t : plan.tablespaces()) {
            tasks.add(root.task(b -> RestoreChain.tablespaceArchive(b, t.oid()), t.location(), "pg_tblspc/" + t.oid() + "/", rel -> false));
        }
    }

    /** What every root's extraction shares; {@code reference} null: the plain chain reassembly, else a {@link VerifiedDelta}. */
    private record Root(Repository repository, RestoreChain chain, Map<String, PostgresManifest.Entry> reference,
                        BackgroundFsync fsync, ProgressCounter counter, Map<String, String> verified) {
        /** {@code manifestPrefix}: the root's paths in backup_manifest ("" for the data directory). */
        Callable<Long> task(Function<BackupInfo, String> archiveOf, Path location, String manifestPrefix, Predicate<String> keep) {
            return () -> reference == null
                    ? ChainExtractor.extractRoot(repository, chain, archiveOf, location, keep, fsync, counter)
                    : VerifiedDelta.extractRoot(repository, chain, archiveOf, location, VerifiedDelta.below(reference, manifestPrefix),
                    !manifestPrefix.isEmpty(), keep, fsync, counter, manifestPrefix, verified);
        }
    }

    /**
     * backup_manifest over the reassembled directory, with the newest backup's WAL range (and system
     * identifier on 17+); {@code verified}: checksums the restore already knows (see {@link VerifiedDelta}).
     */
    static void writeManifest(RestorePlan plan, Map<String, String> verified) throws IOException {
        BackupManifest m = plan.backup().manifest();
        List<CombinedManifest.WalRange> wal = List.of(new CombinedManifest.WalRange(m.timeline(), m.startLsn(), m.stopLsn()));
        CombinedManifest.write(plan.targetDir(), wal, m.postgresVersionNum() >= 170000 ? m.systemIdentifier() : null, verified);
    }
}
