package io.pgbackup.core.internal.restore;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.verify.PostgresManifest;
import io.pgbackup.core.restore.RestorePlan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a delta restore will write and remove, for the plan (and {@code --dry-run}), without
 * reading the backup's tars: the newest backup's {@code backup_manifest} lists every file with
 * its size and CRC32C (an {@code INCREMENTAL.} file under its own name, its blocks compared while
 * restoring), and the directory is compared with it.
 */
final class DeltaPreview {
    private DeltaPreview() {
    }

    static List<String> lines(Repository repository, BackupInfo newest, Path targetDir, List<RestorePlan.TablespaceTarget> tablespaces) {
        List<String> lines = new ArrayList<>();
        if (!Files.isDirectory(targetDir) || !Files.exists(targetDir.resolve("global"))) {
            return lines;
        }
        PostgresManifest manifest;
        try {
            manifest = PostgresManifest.read(repository.storage().read(newest.fileKey(CombinedManifest.NAME)));
        } catch (java.nio.file.NoSuchFileException e) {
            lines.add("delta into " + targetDir + ": files compared with the backup while restoring (it has no backup_manifest to preview with)");
            return lines;
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read backup " + newest.id() + "'s backup_manifest: " + e.getMessage(), e);
        }
        Map<String, PostgresManifest.Entry> expected = new HashMap<>();
        int reassembled = 0;
        for (Map.Entry<String, PostgresManifest.Entry> e : manifest.files().entrySet()) {
            String name = InPlaceWriter.fileNameOf(e.getKey());
            if (!name.equals(e.getKey())) {
                reassembled++;
                expected.put(name, null);
            } else {
                expected.put(name, e.getValue());
            }
        }
        int kept = 0;
        int compared = 0;
        List<String> write = new ArrayList<>();
        List<String> remove = new ArrayList<>();
        try {
            Map<String, CombinedManifest.FileEntry> onDisk = new HashMap<>();
            for (CombinedManifest.FileEntry f : CombinedManifest.files(targetDir)) {
                onDisk.put(f.path(), f);
            }
            for (Map.Entry<String, PostgresManifest.Entry> e : new java.util.TreeMap<>(expected).entrySet()) {
                CombinedManifest.FileEntry there = onDisk.get(e.getKey());
                PostgresManifest.Entry want = e.getValue();
                if (there == null) {
                    write.add("write " + e.getKey() + " (missing)");
                } else if (want == null) {
                    continue; // reassembled: blocks compared while restoring
                } else if (there.size() != want.size()) {
                    write.add("write " + e.getKey() + " (size " + there.size() + ", backup " + want.size() + ")");
                } else if ("CRC32C".equals(want.algorithm()) && !CombinedManifest.crc32c(there.file()).equalsIgnoreCase(want.checksum())) {
                    write.add("rewrite changed blocks of " + e.getKey());
                } else if (!io.pgbackup.core.internal.incremental.RelationPath.isMainForkSegment(e.getKey(), false)) {
                    compared++; // pg_control, pg_filenode.map...: a file ending in its own CRC32C matches any such file's
                } else {
                    kept++;
                }
            }
            for (String path : new java.util.TreeSet<>(onDisk.keySet())) {
                if (!expected.containsKey(path)) {
                    remove.add("remove " + path);
                }
            }
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read " + targetDir + ": " + e.getMessage(), e);
        }
        lines.add("delta into " + targetDir + ": " + kept + " files already match the backup and are kept, " + write.size()
                + " written, " + remove.size() + " removed" + (reassembled == 0 ? ""
                : ", " + reassembled + " relation files reassembled with only their differing blocks rewritten")
                + (compared == 0 ? "" : ", " + compared + " other files compared with the backup's copy while restoring"));
        if (reassembled == 0 && newest.manifest().chain() != null && !newest.manifest().chain().isEmpty()) {
            lines.add("files that differ get the newer backups' blocks first and are checked against the backup's checksums;"
                    + " only those that still differ are rewritten from the full backup (whose tar is not read when none do)");
        }
        lines.addAll(write);
        lines.addAll(remove);
        lines.add(targetDir.resolve("pg_wal") + "/ emptied, then filled from the backup's pg_wal.tar");
        return lines;
    }
}
