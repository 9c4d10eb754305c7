package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupPlan;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.PgBackupVersion;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;

/**
 * Takes one backup: the source streams the server's tars into {@code base/<id>/} through a
 * {@link StoringSink}, and {@code pgbackup_manifest.json} is written last, which is what makes the
 * backup complete. On any failure every object the run wrote is removed; one it could not remove
 * stays incomplete (no manifest), is never listed, and is removed by the next backup or cleanup.
 */
final class BackupEngine {
    private static final Logger log = LoggerFactory.getLogger(BackupEngine.class);

    private final Repository repository;
    private final BackupSource source;
    private final Clock clock;
    private final ManifestCodec codec = new ManifestCodec();

    BackupEngine(Repository repository, BackupSource source, Clock clock) {
        this.repository = repository;
        this.source = source;
        this.clock = clock;
    }

    BackupInfo run(BackupRun run) {
        StoringSink sink = new StoringSink(repository, run.id(), run.compression());
        FilteringSink filtering = new FilteringSink(sink, run.rule(), repository.root().resolve(".spool").resolve(run.id()));
        BackupPlan plan = run.decision().plan();
        log.info("backup {}: {}", run.id(), plan.describe());
        try {
            BackupSource.Taken taken = source.take(run, filtering);
            Optional<String> fileList = filtering.storeListing(run.compression());
            BackupRun.ServerFacts server = run.server();
            OffsetDateTime end = OffsetDateTime.now(clock);
            long segmentSize = server.info().walSegmentSize();
            BackupManifest manifest = BackupManifest.builder()
                    .id(run.id())
                    .label(run.label())
                    .startTime(run.start())
                    .endTime(end)
                    .durationMillis(Duration.between(run.start(), end).toMillis())
                    .pgbackupVersion(PgBackupVersion.get())
                    .postgresVersion(server.info().version())
                    .postgresVersionNum(server.info().versionNum())
                    .systemIdentifier(server.info().systemIdentifier())
                    .timeline(taken.timeline())
                    .startLsn(WalSegmentName.formatLsn(taken.startLsn()))
                    .stopLsn(WalSegmentName.formatLsn(taken.stopLsn()))
                    .startWalFile(WalSegmentName.ofLsn(taken.timeline(), taken.startLsn(), segmentSize).fileName())
                    .stopWalFile(WalSegmentName.ofLsn(taken.timeline(), taken.stopLsn(), segmentSize).fileName())
                    .walSegmentSize(segmentSize)
                    .compression(run.compression().cliName())
                    .databaseSizeBytes(server.databaseSize())
                    .checkpoint(run.options().fastCheckpoint() ? "fast" : "spread")
                    .files(sink.files())
                    .tablespaces(withFiles(taken.tablespaces(), sink.files()))
                    .fromStandby(taken.fromStandby())
                    .type(plan.type())
                    .parent(plan.parent())
                    .chain(plan.chain())
                    .parentStartLsn(run.decision().parent().map(BackupManifest::startLsn).orElse(null))
                    .incrementalMethod(plan.isFull() ? null : run.incrementalMethod())
                    .dataChecksums("on".equals(server.info().setting("data_checksums")))
                    .fileList(fileList.orElse(null))
                    .build();
            requireFiles(manifest);
            if (manifest.file(StoringSink.PG_MANIFEST).isEmpty()) {
                log.info("PostgreSQL {} writes no backup_manifest (it came in 13): verify checks this backup by its own checksums",
                        server.info().version());
            }
            repository.put(Repository.manifestKey(run.id()), codec.toJson(manifest));
            log.info("backup {} complete: {} bytes stored{}", run.id(), manifest.storedBytes(),
                    manifest.fromStandby() ? " (from a standby, timeline " + manifest.timeline() + ")" : "");
            return new BackupInfo(run.id(), Repository.backupKey(run.id()), repository.locationOf(Repository.backupKey(run.id())), manifest);
        } catch (java.io.UncheckedIOException e) {
            filtering.abort();
            removeQuietly(sink);
            throw failedWriting(run, e.getCause());
        } catch (IOException e) {
            filtering.abort();
            removeQuietly(sink);
            throw failedWriting(run, e);
        } catch (RuntimeException e) {
            filtering.abort();
            removeQuietly(sink);
            throw e;
        } finally {
            filtering.removeSpoolDir();
        }
    }

    private PgBackupException failedWriting(BackupRun run, IOException e) {
        return new PgBackupException(ErrorCode.IO_FAILED, "backup failed while writing "
                + repository.locationOf(Repository.backupKey(run.id())) + ": " + cause(e)
                + "; nothing was kept. Free space or fix permissions, then run backup again", e);
    }

    /** Each tablespace with the stored archive of its directory; one the server did not send fails the backup. */
    private static List<BackupManifest.Tablespace> withFiles(List<BackupManifest.Tablespace> tablespaces,
                                                             List<BackupManifest.BackupFile> files) {
        return tablespaces.stream().map(t -> new BackupManifest.Tablespace(t.oid(), t.location(), files.stream()
                .map(BackupManifest.BackupFile::name).filter(n -> StoredName.parse(n).stem().equals(t.oid() + ".tar"))
                .findFirst().orElseThrow(() -> new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: the server"
                        + " sent no archive of tablespace " + t.oid() + " (" + t.location() + "); nothing was kept"))))
                .toList();
    }

    private static void requireFiles(BackupManifest manifest) {
        for (String stem : List.of("base.tar", "pg_wal.tar")) {
            if (manifest.files().stream().noneMatch(f -> f.name().startsWith(stem))) {
                throw new PgBackupException(ErrorCode.EXTERNAL_TOOL_FAILED, "backup failed: the server sent no "
                        + stem + "; nothing was kept");
            }
        }
    }

    /** Why a write failed, in words: a full disk says where and how much is left. */
    String cause(IOException e) {
        String message = Repository.describe(e);
        if (message.contains("No space left") || message.contains("no space left")) {
            return "no space left on device (" + repository.location()
                    + repository.usableSpace().stream().mapToObj(free -> ", " + (free >> 20) + " MiB free").findFirst().orElse("")
                    + ")";
        }
        return message;
    }

    private void removeQuietly(StoringSink sink) {
        sink.abort();
        try {
            repository.deleteAll(sink.keysWritten());
        } catch (IOException | RuntimeException e) {
            log.warn("could not remove the objects of the failed backup: {}", e.getMessage());
        }
    }
}
