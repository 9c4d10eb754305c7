package io.pgbackup.core.internal.retention;

import io.pgbackup.core.internal.storage.ProgressCounter;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;

import java.io.IOException;
import java.util.List;

/** Cleanup's WAL deletion in batches, so that its progress moves on a repository with a long archive. */
final class WalDeletion {
    /** Keys per call: S3 deletes up to 1,000 per request. */
    private static final int BATCH = 1000;

    private WalDeletion() {
    }

    /** Deletes {@code keys}; by the end {@code counter} has been told all of the plan's WAL bytes (skipped files too). */
    static void delete(Repository repository, List<String> keys, RetentionPlan plan, ProgressCounter counter) throws IOException {
        long walBytes = plan.walToDelete().stream().mapToLong(RetentionPlan.WalFile::bytes).sum();
        long told = 0;
        for (int from = 0; from < keys.size(); from += BATCH) {
            int to = Math.min(keys.size(), from + BATCH);
            repository.deleteAll(keys.subList(from, to));
            long share = walBytes * to / keys.size();
            counter.add(share - told);
            told = share;
        }
        if (told < walBytes) {
            counter.add(walBytes - told);
        }
    }
}
