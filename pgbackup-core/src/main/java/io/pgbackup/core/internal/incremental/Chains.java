package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.status.StatusReport;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Chains of backups as the repository holds them: which backups a restore of one reads. */
public final class Chains {
    private Chains() {
    }

    /** The ids a restore of {@code backup} reads, the full first and {@code backup} last. */
    public static List<String> of(BackupInfo backup) {
        List<String> ids = new ArrayList<>(backup.manifest().chain());
        ids.add(backup.id());
        return ids;
    }

    /** The newest backup's chain, with its stored bytes and the full's age; backups missing from {@code all} count nothing. */
    public static StatusReport.ChainStatus status(List<BackupInfo> all, BackupInfo newest, Instant now) {
        Map<String, BackupInfo> byId = all.stream().collect(Collectors.toMap(BackupInfo::id, Function.identity(), (a, b) -> a));
        List<String> ids = of(newest);
        long bytes = ids.stream().map(byId::get).filter(java.util.Objects::nonNull).mapToLong(BackupInfo::storedBytes).sum();
        BackupInfo full = byId.getOrDefault(ids.get(0), newest);
        return new StatusReport.ChainStatus(ids.get(0), ids, bytes, full.age(now));
    }
}
