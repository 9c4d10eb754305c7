package io.pgbackup.core.internal.status;

import io.pgbackup.core.internal.archive.WalArchive;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.StoredName;
import io.pgbackup.core.status.StatusReport.BucketStatus;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The bucket's part of {@code status}: reachable (one listing of each of {@code wal_archive/} and
 * {@code base/}), writable (a probe object written and deleted), and how far the offsite copy lags
 * the local repository (newest segment and newest backup here and there, and how many are missing).
 */
final class BucketProbe {
    static final String PROBE_KEY = ".pgbackup-status-probe";

    private BucketProbe() {
    }

    /**
     * @param local   the local repository's WAL archive and complete backup ids, or null when the
     *                repository is the bucket itself
     * @param listed  the bucket's WAL archive as this command already listed it (the bucket is the
     *                repository), or null to list it here: a command pages through it once
     */
    static BucketStatus probe(Storage bucket, WalArchive local, List<String> localBackups, WalArchive listed) {
        Set<String> walThere = new HashSet<>();
        String newestWal;
        String newestBackup;
        Set<String> backupsThere = new HashSet<>();
        try {
            newestWal = listed != null ? newestSegment(listed) : newestSegment(bucket.list(Repository.WAL_PREFIX), walThere);
            for (Storage.StoredObject o : bucket.list(Repository.BASE_PREFIX)) {
                String[] parts = o.key().split("/");
                if (parts.length == 3 && parts[2].equals(Repository.MANIFEST_FILE) && Repository.isBackupId(parts[1])) {
                    backupsThere.add(parts[1]);
                }
            }
            newestBackup = backupsThere.stream().max(String::compareTo).orElse(null);
        } catch (IOException | RuntimeException e) {
            return new BucketStatus(bucket.location(), false, e.getMessage(), null, local == null, null, null, null, null, -1, -1);
        }
        Boolean writable;
        String error = null;
        try {
            bucket.write(PROBE_KEY, ("pgbackup status probe, pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8),
                    Storage.WriteMode.REPLACE);
            bucket.delete(PROBE_KEY);
            writable = true;
        } catch (IOException | RuntimeException e) {
            writable = false;
            error = e.getMessage();
        }
        if (local == null) {
            return new BucketStatus(bucket.location(), true, error, writable, true, newestWal, null, newestBackup, null, -1, -1);
        }
        long walMissing = local.entries().values().stream().filter(e -> !walThere.contains(e.key())).count();
        String localNewestWal = null;
        for (WalArchive.Entry e : local.entries().values()) {
            if (WalSegmentName.parse(e.name(), WalSegmentName.DEFAULT_SEGMENT_SIZE).isPresent()
                    && (localNewestWal == null || e.name().compareTo(localNewestWal) > 0)) {
                localNewestWal = e.name();
            }
        }
        long backupsMissing = localBackups.stream().filter(id -> !backupsThere.contains(id)).count();
        String localNewestBackup = localBackups.isEmpty() ? null : localBackups.get(localBackups.size() - 1);
        return new BucketStatus(bucket.location(), true, error, writable, false, newestWal, localNewestWal, newestBackup,
                localNewestBackup, walMissing, backupsMissing);
    }

    private static String newestSegment(WalArchive listed) {
        String newest = null;
        for (String name : listed.entries().keySet()) {
            if (WalSegmentName.parse(name, WalSegmentName.DEFAULT_SEGMENT_SIZE).isPresent() && (newest == null || name.compareTo(newest) > 0)) {
                newest = name;
            }
        }
        return newest;
    }

    private static String newestSegment(List<Storage.StoredObject> objects, Set<String> keys) {
        String newest = null;
        for (Storage.StoredObject o : objects) {
            keys.add(o.key());
            String stem = StoredName.parse(o.name()).stem();
            if (WalSegmentName.parse(stem, WalSegmentName.DEFAULT_SEGMENT_SIZE).isPresent()
                    && (newest == null || stem.compareTo(newest) > 0)) {
                newest = stem;
            }
        }
        return newest;
    }
}
