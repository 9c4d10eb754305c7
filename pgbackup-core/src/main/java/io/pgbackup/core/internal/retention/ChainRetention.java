package io.pgbackup.core.internal.retention;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.retention.RetentionPolicy.RetentionPlan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Retention over chains: a backup that a kept diff or incr needs (its full and every backup between)
 * stays, so chains only ever expire whole; every decision on a diff or incr names its chain.
 */
final class ChainRetention {
    private ChainRetention() {
    }

    /** Moves from {@code delete} to {@code keep} (and {@code kept}) every backup a kept one's chain needs. */
    static void keepChains(List<BackupInfo> all, List<RetentionPlan.BackupDecision> keep,
                           List<RetentionPlan.BackupDecision> delete, List<BackupInfo> kept) {
        Map<String, BackupInfo> byId = new HashMap<>();
        all.forEach(b -> byId.put(b.id(), b));
        boolean moved = true;
        while (moved) {
            moved = false;
            for (BackupInfo k : new ArrayList<>(kept)) {
                for (String needed : k.manifest().chain()) {
                    RetentionPlan.BackupDecision d = delete.stream().filter(x -> x.id().equals(needed)).findFirst().orElse(null);
                    if (d != null) {
                        delete.remove(d);
                        keep.add(new RetentionPlan.BackupDecision(d.id(), d.endTime(), d.age(), d.bytes(), "needed by "
                                + k.manifest().type() + " " + k.id() + " (chain " + chain(k) + "); else it would go: " + d.reason()));
                        kept.add(byId.get(needed));
                        moved = true;
                    }
                }
            }
        }
        keep.sort(Comparator.comparing(RetentionPlan.BackupDecision::id).reversed());
        label(keep, byId);
        label(delete, byId);
    }

    /** Adds the chain to the reason of each diff or incr. */
    private static void label(List<RetentionPlan.BackupDecision> decisions, Map<String, BackupInfo> byId) {
        decisions.replaceAll(d -> {
            BackupInfo b = byId.get(d.id());
            if (b == null || !b.manifest().isIncremental() || d.reason().contains("(chain ")) {
                return d;
            }
            return new RetentionPlan.BackupDecision(d.id(), d.endTime(), d.age(), d.bytes(),
                    d.reason() + " (" + b.manifest().type() + ", chain " + chain(b) + ")");
        });
    }

    static String chain(BackupInfo b) {
        BackupManifest m = b.manifest();
        return String.join(" > ", m.chain()) + " > " + b.id();
    }
}
