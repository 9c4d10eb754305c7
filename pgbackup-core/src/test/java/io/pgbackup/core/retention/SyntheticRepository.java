package io.pgbackup.core.retention;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;
import io.pgbackup.core.testing.RepositoryFixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The retention tests' repository: crafted manifests and WAL names (no cluster) dated against a
 * fixed {@link #NOW}, and a PgBackup on it whose clock stands still.
 */
final class SyntheticRepository {
    static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    static final long SEG = 16L * 1024 * 1024;

    private final Path root;
    private final Repository repository;

    /** The layout {@code init} creates, in {@code root}. */
    SyntheticRepository(Path root) throws IOException {
        this.root = root;
        this.repository = new Repository(root);
        repository.createLayout();
    }

    Repository repository() {
        return repository;
    }

    PgBackup pg(int count, int days, int walDays, Instant now) {
        PgBackupConfig config = PgBackupConfig.builder().backupDir(root).retainCount(count).retainDays(days)
                .retainWalDays(walDays).build();
        return PgBackup.builder(config).clock(Clock.fixed(now, ZoneOffset.UTC)).build();
    }

    /** A backup that ended {@code daysAgo} days before NOW, starting at {@code startSeg} on {@code timeline}. */
    String backup(double daysAgo, int timeline, long startSeg) throws IOException {
        OffsetDateTime end = OffsetDateTime.ofInstant(NOW.minusSeconds((long) (daysAgo * 86400)), ZoneOffset.UTC);
        String id = end.minusMinutes(1).format(DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss"));
        return RepositoryFixtures.backup(repository, id, end, timeline, seg(timeline, startSeg), seg(timeline, startSeg + 1), 1000);
    }

    static String seg(int timeline, long segno) {
        return new WalSegmentName(timeline, segno, SEG).fileName();
    }

    /** An archived WAL file of 100 bytes, last modified {@code daysAgo} days before NOW. */
    Path wal(String file, double daysAgo) throws IOException {
        Path p = repository.walArchiveDir().resolve(file);
        Files.write(p, new byte[100]);
        Files.setLastModifiedTime(p, FileTime.from(NOW.minusSeconds((long) (daysAgo * 86400))));
        return p;
    }

    static List<String> ids(List<RetentionPlan.BackupDecision> decisions) {
        return decisions.stream().map(RetentionPlan.BackupDecision::id).toList();
    }
}
