package io.pgbackup.core.archive;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What {@code init} did and found. Immutable; the CLI only renders it.
 *
 * @param backupDir             the repository root ({@code PG_BACKUP_DIR})
 * @param createdDirectories    layout directories that did not exist before this run (empty on a re-run)
 * @param scripts               the archive and restore scripts and what happened to each
 * @param archiveCommand        the {@code archive_command} value that calls the archive script
 * @param restoreCommand        the {@code restore_command} value that calls the restore script (for recovery)
 * @param remoteTarget          where the archive script copies each file ({@code user@host:dir/wal_archive/},
 *                              port {@link #remotePort()}), or empty when remote sync is off
 * @param remotePort            the SSH port of the remote, or 0 when remote sync is off
 * @param configLines           the postgresql.conf lines to set, quoted as postgresql.conf wants them
 * @param alterSystemStatements the same settings as {@code ALTER SYSTEM} statements
 * @param cluster               whether the live cluster could be checked
 * @param settings              each setting of {@code configLines} against the live cluster; empty when
 *                              the cluster was not reachable
 */
public record InitResult(Path backupDir, List<Path> createdDirectories, List<ScriptInstall> scripts,
                         String archiveCommand, String restoreCommand, String remoteTarget, int remotePort,
                         List<String> configLines, List<String> alterSystemStatements,
                         ClusterCheck cluster, List<SettingCheck> settings, String archiverMode) {
    public InitResult {
        Objects.requireNonNull(backupDir, "backupDir");
        createdDirectories = List.copyOf(createdDirectories);
        scripts = List.copyOf(scripts);
        Objects.requireNonNull(archiveCommand, "archiveCommand");
        Objects.requireNonNull(restoreCommand, "restoreCommand");
        Objects.requireNonNull(remoteTarget, "remoteTarget");
        configLines = List.copyOf(configLines);
        alterSystemStatements = List.copyOf(alterSystemStatements);
        Objects.requireNonNull(cluster, "cluster");
        settings = List.copyOf(settings);
        Objects.requireNonNull(archiverMode, "archiverMode");
    }

    /** Whether the live cluster was checked and has every setting right. */
    public boolean clusterReady() {
        return cluster.reachable() && settings.stream().allMatch(SettingCheck::ok);
    }

    /** Whether a setting that only takes effect on a server restart still has to change. */
    public boolean restartNeeded() {
        return settings.stream().anyMatch(s -> !s.ok() && s.needsRestart());
    }

    /** Whether any script was written by this run. */
    public boolean scriptsChanged() {
        return scripts.stream().anyMatch(s -> s.state() != ScriptInstall.State.UNCHANGED);
    }
}
