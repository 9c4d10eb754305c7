package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupType;
import io.pgbackup.core.internal.archive.TimelineHistories;
import org.junit.jupiter.api.Test;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which parent a diff, incr or auto builds on, and every safety rule that takes a full instead, with its line. */
class ChainPlannerTest {
    static final OffsetDateTime NOW = OffsetDateTime.of(2026, 6, 10, 12, 0, 0, 0, ZoneOffset.UTC);
    static final ChainPlanner.Server SERVER = new ChainPlanner.Server("7000", 150004, 1, true);
    final ChainPlanner planner = new ChainPlanner(new ChainSettings(7, 3));

    static BackupInfo backup(String id, String type, List<String> chain, OffsetDateTime start) {
        BackupManifest m = BackupManifest.builder().id(id).startTime(start).endTime(start.plusMinutes(1))
                .postgresVersionNum(150004).systemIdentifier("7000").timeline(1).startLsn("0/5000028").stopLsn("0/5000100")
                .type(type).chain(chain).parent(chain.isEmpty() ? null : chain.get(chain.size() - 1))
                .dataChecksums(true).fileList("pgbackup_files.json.gz")
                .files(List.of(new BackupManifest.BackupFile("base.tar.gz", 1, "00"))).build();
        return new BackupInfo(id, "base/" + id, "/repo/base/" + id, m);
    }

    static BackupInfo with(BackupInfo b, java.util.function.UnaryOperator<BackupManifest.Builder> change) {
        return new BackupInfo(b.id(), b.key(), b.location(), change.apply(b.manifest().toBuilder()).build());
    }

    final BackupInfo full = backup("20260610_000000", "full", List.of(), NOW.minusHours(12));
    final BackupInfo incr = backup("20260610_060000", "incr", List.of(full.id()), NOW.minusHours(6));

    ChainPlanner.Decision plan(BackupType type, List<BackupInfo> backups) {
        return planner.plan(type, backups, SERVER, NOW, tli -> List.of());
    }

    @Test
    void incrBuildsOnTheNewestBackupDiffOnTheNewestFullAutoOnTheChain() {
        assertThat(plan(BackupType.INCR, List.of(full, incr)).plan()).satisfies(p -> {
            assertThat(p.type()).isEqualTo("incr");
            assertThat(p.parent()).isEqualTo(incr.id());
            assertThat(p.chain()).containsExactly(full.id(), incr.id());
        });
        assertThat(plan(BackupType.DIFF, List.of(full, incr)).plan()).satisfies(p -> {
            assertThat(p.type()).isEqualTo("diff");
            assertThat(p.parent()).isEqualTo(full.id());
            assertThat(p.chain()).containsExactly(full.id());
        });
        assertThat(plan(BackupType.AUTO, List.of(full, incr)).plan().type()).isEqualTo("incr");
        assertThat(plan(BackupType.INCR, List.of()).plan().reason()).isEqualTo("no full backup of this cluster to build an incr on");
    }

    @Test
    void autoTakesAFullWhenTheFullIsOldOrTheChainLong() {
        BackupInfo old = backup("20260601_000000", "full", List.of(), NOW.minusDays(8));
        assertThat(plan(BackupType.AUTO, List.of(old)).plan().reason())
                .isEqualTo("the newest full 20260601_000000 is 8 days old (PG_BACKUP_FULL_INTERVAL_DAYS=7)");
        BackupInfo incr2 = backup("20260610_070000", "incr", List.of(full.id(), incr.id()), NOW.minusHours(5));
        assertThat(plan(BackupType.AUTO, List.of(full, incr, incr2)).plan().reason())
                .isEqualTo("the chain of 20260610_000000 is 3 backups long (PG_BACKUP_MAX_CHAIN=3)");
        // asked for explicitly, an incr still builds on the long chain
        assertThat(plan(BackupType.INCR, List.of(full, incr, incr2)).plan().type()).isEqualTo("incr");
    }

    @Test
    void aParentThePageRuleCannotVouchForMeansAFullWithTheReason() {
        String p = "the parent " + incr.id();
        Map<BackupInfo, String> cases = Map.of(
                with(incr, b -> b.systemIdentifier("9999")), "no full backup of this cluster",
                with(incr, b -> b.postgresVersionNum(140010)), p + " is of PostgreSQL 14, the server runs 15",
                with(incr, b -> b.dataChecksums(false)), "data checksums were turned on since " + p,
                with(incr, b -> b.dataChecksums(null)), p + " does not record whether data checksums were on",
                with(incr, b -> b.fileList(null)), p + " has no list of its files",
                with(incr, b -> b.chain(List.of(full.id(), "20260610_030000"))), p + " needs backup 20260610_030000, which is gone");
        cases.forEach((parent, reason) -> {
            List<BackupInfo> backups = parent.manifest().systemIdentifier().equals("9999") ? List.of(with(full, b -> b.systemIdentifier("9999")), parent)
                    : List.of(full, parent);
            ChainPlanner.Decision d = plan(BackupType.INCR, backups);
            assertThat(d.plan().type()).as(reason).isEqualTo("full");
            assertThat(d.plan().reason()).as(reason).startsWith(reason);
            assertThat(d.parent()).isEmpty();
        });
        // another cluster's parent, checked on its own (the catalog refuses a foreign repository before this)
        assertThat(ChainPlanner.unsafe(with(incr, b -> b.systemIdentifier("9999")).manifest(), List.of(), SERVER, t -> List.of()))
                .hasValue(p + " is of another cluster (system identifier 9999, the server is 7000)");
    }

    @Test
    void aParentOnATimelineOutsideTheServersHistoryMeansAFull() {
        ChainPlanner.Server onTwo = new ChainPlanner.Server("7000", 150004, 2, true);
        // no history file: timeline 1 is not known to lead to 2
        assertThat(planner.plan(BackupType.INCR, List.of(full, incr), onTwo, NOW, t -> List.of()).plan().reason())
                .isEqualTo("the parent " + incr.id() + " is on timeline 1, which is not in the history of the server's timeline 2");
        // 2 branched off 1 before the parent ended: the parent holds changes timeline 2 never had
        assertThat(planner.plan(BackupType.INCR, List.of(full, incr), onTwo, NOW,
                t -> List.of(new TimelineHistories.TimelineSwitch(1, 0x5000050L))).plan().reason())
                .isEqualTo("the parent " + incr.id() + " ended at 0/5000100 on timeline 1, after the server's timeline 2"
                        + " branched off at 0/5000050");
        // branched after the parent ended: the parent is on the server's history
        assertThat(planner.plan(BackupType.INCR, List.of(full, incr), onTwo, NOW,
                t -> List.of(new TimelineHistories.TimelineSwitch(1, 0x6000000L))).plan().type()).isEqualTo("incr");
    }
}
