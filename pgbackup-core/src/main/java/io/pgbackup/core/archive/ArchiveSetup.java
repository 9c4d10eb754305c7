package io.pgbackup.core.archive;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Sets up a repository for continuous archiving (the {@code init} command): the directory layout,
 * the archive and restore scripts, and a check of the live cluster's settings.
 */
public interface ArchiveSetup {
    /**
     * Creates {@code PG_BACKUP_DIR}'s layout (owner-only), installs or refreshes
     * {@code scripts/archive_wal.sh} and {@code scripts/restore_wal.sh}, and compares the cluster's
     * archiving settings with what they should be. Idempotent: a re-run with the same configuration
     * changes nothing; a re-run after a configuration change rewrites the scripts.
     *
     * <p>A cluster that cannot be reached, or that is not configured ({@code PG_USER_NAME} unset),
     * is reported in {@link InitResult#cluster()}, not thrown.
     *
     * @throws io.pgbackup.core.PgBackupException {@code INVALID_CONFIG} when {@code PG_BACKUP_DIR} is
     *         unset or unusable, {@code IO_FAILED} when the layout or a script cannot be written
     */
    InitResult init();

    /** The {@code archive_command} value for this repository: {@code <dir>/scripts/archive_wal.sh %p %f}. */
    String archiveCommand();

    /** The {@code restore_command} value for this repository: {@code <dir>/scripts/restore_wal.sh %f %p}. */
    String restoreCommand();

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
     * @param stoppedArchivers      the pids of the archivers init stopped because they ran with the settings
     *                              of the scripts it replaced (or without the key it turned on); PostgreSQL's
     *                              next {@code archive_command} starts one with the new settings
     */
    record InitResult(Path backupDir, List<Path> createdDirectories, List<ScriptInstall> scripts,
                             String archiveCommand, String restoreCommand, String remoteTarget, int remotePort,
                             List<String> configLines, List<String> alterSystemStatements,
                             ClusterCheck cluster, List<SettingCheck> settings, String archiverMode,
                             List<Long> stoppedArchivers) {
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
            stoppedArchivers = List.copyOf(stoppedArchivers);
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

        /** What {@code init} did with one generated script. */
        public record ScriptInstall(Path path, State state) {
            public ScriptInstall {
                Objects.requireNonNull(path, "path");
                Objects.requireNonNull(state, "state");
            }

            public enum State {
                /** There was no script: it was written. */
                INSTALLED,
                /** The script's text or permissions differed from what this configuration generates: it was rewritten. */
                UPDATED,
                /** The script was already exactly right: not touched. */
                UNCHANGED
            }
        }

        /**
         * One archiving setting as the live cluster has it, against what pgbackup wants.
         *
         * @param name         the setting, e.g. {@code archive_mode}
         * @param expected     the value pgbackup recommends, as written in postgresql.conf (unquoted)
         * @param actual       the cluster's current value ({@code pg_settings.setting})
         * @param status       whether {@code actual} does the job
         * @param needsRestart whether changing this setting takes a server restart rather than a reload
         */
        public record SettingCheck(String name, String expected, String actual, Status status, boolean needsRestart) {
            public SettingCheck {
                Objects.requireNonNull(name, "name");
                Objects.requireNonNull(expected, "expected");
                Objects.requireNonNull(actual, "actual");
                Objects.requireNonNull(status, "status");
            }

            public boolean ok() {
                return status == Status.OK;
            }

            public enum Status {
                /** The cluster's value does the job (it may be stronger than asked, e.g. {@code wal_level = logical}). */
                OK,
                /** The setting is off or empty: {@code archive_mode = off}, no {@code archive_command}, {@code archive_timeout = 0}. */
                MISSING,
                /** The setting holds another value: an {@code archive_command} calling something else, too few WAL senders. */
                DIFFERENT
            }
        }

        /**
         * Whether {@code init} could read the live cluster's settings.
         *
         * @param reachable     whether the settings were read
         * @param serverVersion the server's version when reachable, else empty
         * @param message       one line for the user: the server and address it read, or why it could not
         */
        public record ClusterCheck(boolean reachable, String serverVersion, String message) {
            public ClusterCheck {
                Objects.requireNonNull(serverVersion, "serverVersion");
                Objects.requireNonNull(message, "message");
            }
        }
    }
}
