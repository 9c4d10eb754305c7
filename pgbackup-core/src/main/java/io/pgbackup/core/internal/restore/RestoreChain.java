package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.archive.WalSegmentName;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The backups a restore reads, oldest first: the full, then each diff or incr up to the one
 * restored (a full alone for a full). Made only from a chain whose every link holds: each
 * ancestor present, each one's parent the one before it, one system identifier and major version,
 * start LSNs rising, each incremental's recorded parent start LSN the parent's own. So a broken
 * chain is refused before anything is written.
 *
 * @param delta rewrite an existing data directory in place, only what differs
 */
public record RestoreChain(List<BackupInfo> members, boolean delta) {
    public RestoreChain {
        members = List.copyOf(members);
    }

    BackupInfo newest() {
        return members.get(members.size() - 1);
    }

    /** More than a full: the files are reassembled and backup_manifest synthesized. */
    boolean incremental() {
        return members.size() > 1;
    }

    /** The chain of {@code newest}, each member found through {@code byId} (null when missing). */
    public static RestoreChain of(BackupInfo newest, Function<String, BackupInfo> byId, boolean delta) {
        BackupManifest m = newest.manifest();
        List<BackupInfo> members = new ArrayList<>();
        for (String id : m.chain()) {
            BackupInfo member = byId.apply(id);
            if (member == null) {
                throw broken(newest, "needs backup " + id + " of its chain (" + String.join(" -> ", m.chain())
                        + "), which is missing from the repository");
            }
            members.add(member);
        }
        members.add(newest);
        if (m.isIncremental() && m.chain().isEmpty()) {
            throw broken(newest, "is a " + m.type() + " backup without a chain in its manifest");
        }
        BackupInfo first = members.get(0);
        if (first.manifest().isIncremental()) {
            throw broken(newest, "starts its chain at " + first.id() + ", which is a " + first.manifest().type() + ", not a full backup");
        }
        for (int i = 1; i < members.size(); i++) {
            check(newest, members.get(i - 1), members.get(i), members.subList(0, i));
        }
        return new RestoreChain(members, delta);
    }

    private static void check(BackupInfo newest, BackupInfo parent, BackupInfo child, List<BackupInfo> before) {
        BackupManifest p = parent.manifest();
        BackupManifest c = child.manifest();
        if (!c.isIncremental()) {
            throw broken(newest, "has the full backup " + child.id() + " in the middle of its chain");
        }
        if (!parent.id().equals(c.parent())) {
            throw broken(newest, "lists " + parent.id() + " before " + child.id() + ", whose parent is " + c.parent());
        }
        List<String> expected = before.stream().map(BackupInfo::id).toList();
        if (!expected.equals(c.chain())) {
            throw broken(newest, "has " + child.id() + " with the chain " + c.chain() + " where " + expected + " was expected");
        }
        if (!p.systemIdentifier().equals(c.systemIdentifier())) {
            throw broken(newest, "mixes clusters: " + parent.id() + " has system identifier " + p.systemIdentifier()
                    + ", " + child.id() + " " + c.systemIdentifier());
        }
        if (p.postgresVersionNum() / 10000 != c.postgresVersionNum() / 10000) {
            throw broken(newest, "mixes PostgreSQL " + p.postgresVersion() + " (" + parent.id() + ") and "
                    + c.postgresVersion() + " (" + child.id() + ")");
        }
        if (c.parentStartLsn() == null || !c.parentStartLsn().equals(p.startLsn())) {
            throw broken(newest, "has " + child.id() + " taken relative to start LSN " + c.parentStartLsn()
                    + ", but its parent " + parent.id() + " starts at " + p.startLsn());
        }
        if (Long.compareUnsigned(WalSegmentName.parseLsn(c.startLsn()), WalSegmentName.parseLsn(p.startLsn())) <= 0) {
            throw broken(newest, "has " + child.id() + " starting at " + c.startLsn() + ", not after its parent "
                    + parent.id() + " (" + p.startLsn() + ")");
        }
    }

    /** The chain found among {@code backups} by id. */
    static RestoreChain of(BackupInfo newest, List<BackupInfo> backups, boolean delta) {
        Map<String, BackupInfo> byId = backups.stream().collect(Collectors.toMap(BackupInfo::id, b -> b, (a, b) -> a));
        return of(newest, byId::get, delta);
    }

    /** The archive of {@code stem} ({@code base.tar}) or of tablespace {@code oid} in a member, or null when it has none. */
    static String tablespaceArchive(BackupInfo member, long oid) {
        return member.manifest().tablespaces().stream().filter(t -> t.oid() == oid).findFirst()
                .map(t -> t.fileIn(member.manifest())).orElse(null);
    }

    /** The lines --dry-run shows for the chain. */
    List<String> describe() {
        List<String> lines = new ArrayList<>();
        if (incremental()) {
            lines.add("reassembled from the chain " + members.stream().map(b -> b.id() + " (" + b.manifest().type() + ")")
                    .collect(Collectors.joining(" -> ")) + ": each backup's blocks applied over the one before");
        }
        return lines;
    }

    private static PgBackupException broken(BackupInfo newest, String why) {
        return new PgBackupException(ErrorCode.VERIFICATION_FAILED, "backup " + newest.id() + " " + why
                + "; nothing was restored. Restore a full backup or another chain (see 'pgbackup list')");
    }
}
