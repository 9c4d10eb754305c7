package io.pgbackup.core.internal.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult.ScriptInstall;

import io.pgbackup.core.archive.ArchiveSetup.InitResult.ClusterCheck;

import io.pgbackup.core.archive.ArchiveSetup;

import io.pgbackup.core.archive.ArchiveSetup.InitResult;

import io.pgbackup.core.archive.ArchiveSetup.InitResult.SettingCheck;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.internal.PgBackupContext;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.config.PgBackupConfig;
import io.pgbackup.core.internal.postgres.ServerInfo;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/** The production {@link ArchiveSetup}. */
public final class DefaultArchiveSetup implements ArchiveSetup {
    /** Two WAL senders: pg_basebackup streams WAL on a second connection beside the backup's own. */
    private static final int MIN_WAL_SENDERS = 2;

    private final PgBackupContext context;

    public DefaultArchiveSetup(PgBackupContext context) {
        this.context = context;
    }

    @Override
    public String archiveCommand() {
        return scripts(context.repository()).archiveCommand();
    }

    @Override
    public String restoreCommand() {
        return scripts(context.repository()).restoreCommand();
    }

    @Override
    public InitResult init() {
        Repository repository = context.repository();
        PgBackupConfig config = context.config();
        // Built first: a compression the script cannot handle fails before anything is created.
        ArchiveScripts scripts = scripts(repository);
        // With a key, init is the one step that turns encryption on; without one, a script archiving plain
        // into a repository turned sealed would turn it off unnoticed.
        var turningOn = io.pgbackup.core.internal.crypto.PlainWriteGuard.turningOn(repository.storage());
        if (turningOn.isEmpty()) {
            io.pgbackup.core.internal.crypto.PlainWriteGuard.refuseIfSealed(repository.storage(), "init");
        }
        List<Path> created;
        List<ScriptInstall> installs;
        List<Long> stoppedArchivers;
        // An archiver keeps the settings archive_wal.sh exported when it started (the key among them): one still
        // running when the script changes is stopped, and held off until the new script is in place, so that the
        // next archive_command starts one with the new settings. Turning encryption on: no archiver started
        // without the key may run (or start) between the inventory and the scripts.
        boolean restartArchivers = turningOn.isPresent() || ArchiveScripts.differs(repository.archiveScript(), scripts.archiveScript());
        try (ArchiverStop stopped = restartArchivers ? ArchiverStop.stopAndHold(config.requireBackupDir()) : null) {
            stoppedArchivers = stopped == null ? List.of() : stopped.stopped();
            created = repository.createLayout();
            if (turningOn.isPresent()) {
                turningOn.get().takeInventory();
            }
            installs = List.of(
                    ArchiveScripts.install(repository.archiveScript(), scripts.archiveScript()),
                    ArchiveScripts.install(repository.restoreScript(), scripts.restoreScript()));
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.IO_FAILED, "cannot set up " + repository + ": " + e
                    + ". Check that the directory is writable by this user and the disk is not full", e);
        }
        ServerInfo info = null;
        ClusterCheck cluster;
        try {
            info = readServer();
            cluster = new ClusterCheck(true, info.version(), "PostgreSQL " + info.version()
                    + (info.inRecovery() ? " (a standby)" : "") + " at " + config.serverDescription()
                    + (info.inRecovery() ? STANDBY_NOTE : ""));
        } catch (PgBackupException e) {
            // Not fatal: init's files are in place, and the printed lines say what to set.
            cluster = new ClusterCheck(false, "", e.getMessage());
        }
        List<Wanted> wanted = wantedSettings(scripts.archiveCommand(), info != null && info.inRecovery());
        List<String> confLines = wanted.stream().map(w -> w.name() + " = " + w.confValue()).toList();
        List<String> alterSystem = wanted.stream()
                .map(w -> "ALTER SYSTEM SET " + w.name() + " = " + w.sqlValue() + ";").toList();
        ServerInfo read = info;
        List<SettingCheck> checks = read == null ? List.of() : wanted.stream().map(w -> w.check(read.setting(w.name()))).toList();
        String remoteTarget = config.remote().map(r -> r.rsyncTarget() + "/wal_archive/").orElse("");
        int remotePort = config.remote().map(r -> r.port()).orElse(0);
        return new InitResult(repository.root(), created, installs, scripts.archiveCommand(),
                scripts.restoreCommand(), remoteTarget, remotePort, confLines, alterSystem, cluster, checks,
                scripts.mode().name().toLowerCase(java.util.Locale.ROOT), stoppedArchivers);
    }

    private ArchiveScripts scripts(Repository repository) {
        return ArchiveScripts.of(context, repository);
    }

    private ServerInfo readServer() {
        try (Connection connection = context.connector().open()) {
            return ServerInfo.read(connection);
        } catch (SQLException e) {
            throw new PgBackupException(ErrorCode.CONNECTION_FAILED, "cannot read the settings of PostgreSQL at "
                    + context.config().serverDescription() + ": " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "unknown error" : message.strip().split("\\R", 2)[0];
    }

    /** What init says about a standby besides its settings. */
    static final String STANDBY_NOTE = "; a standby archives only with archive_mode = always (else the primary must"
            + " archive into this repository), and archive_timeout works only on the primary: set it there";

    /**
     * The settings of the spec's "Configure PostgreSQL" step, in its order, and how to judge each.
     * A standby archives only with {@code archive_mode = always}, and ignores archive_timeout
     * (only the primary can end a segment early), so it is not asked for there.
     */
    private static List<Wanted> wantedSettings(String archiveCommand, boolean standby) {
        Wanted archiveMode = standby
                ? new Wanted("archive_mode", "always", "always", "'always'", true, actual -> switch (actual) {
                    case "always" -> SettingCheck.Status.OK;
                    case "", "off" -> SettingCheck.Status.MISSING;
                    default -> SettingCheck.Status.DIFFERENT;
                })
                : new Wanted("archive_mode", "on", "on", "'on'", true, actual -> switch (actual) {
                    case "on", "always" -> SettingCheck.Status.OK;
                    case "", "off" -> SettingCheck.Status.MISSING;
                    default -> SettingCheck.Status.DIFFERENT;
                });
        List<Wanted> all = new java.util.ArrayList<>(List.of(
                new Wanted("wal_level", "replica", "replica", "'replica'", true, actual -> switch (actual) {
                    case "replica", "logical" -> SettingCheck.Status.OK;
                    case "", "minimal" -> SettingCheck.Status.MISSING;
                    default -> SettingCheck.Status.DIFFERENT;
                }),
                archiveMode,
                new Wanted("archive_command", archiveCommand, confQuote(archiveCommand), sqlQuote(archiveCommand),
                        false, actual -> {
                            // PostgreSQL shows "(disabled)" while archive_mode is off, whatever the command.
                            if (actual.isBlank() || actual.equals("(disabled)")) {
                                return SettingCheck.Status.MISSING;
                            }
                            return actual.strip().equals(archiveCommand) ? SettingCheck.Status.OK
                                    : SettingCheck.Status.DIFFERENT;
                        }),
                // The spec's bound on what a quiet server can lose: a partly filled segment is
                // archived after at most 5 minutes.
                new Wanted("archive_timeout", "300", "300", "300", false, actual -> switch (actual) {
                    case "", "0" -> SettingCheck.Status.MISSING;
                    case "300" -> SettingCheck.Status.OK;
                    default -> SettingCheck.Status.DIFFERENT;
                }),
                new Wanted("max_wal_senders", "10", "10", "10", true, actual -> {
                    int senders;
                    try {
                        senders = Integer.parseInt(actual.strip());
                    } catch (NumberFormatException e) {
                        return SettingCheck.Status.MISSING;
                    }
                    if (senders == 0) {
                        return SettingCheck.Status.MISSING;
                    }
                    return senders >= MIN_WAL_SENDERS ? SettingCheck.Status.OK : SettingCheck.Status.DIFFERENT;
                })));
        if (standby) {
            all.removeIf(w -> w.name().equals("archive_timeout"));
        }
        return all;
    }

    /** A postgresql.conf string: quotes doubled, and backslashes too, since the file reads them as escapes. */
    private static String confQuote(String value) {
        return io.pgbackup.core.internal.postgres.PgConfText.literal(value);
    }

    /** An SQL string literal (standard_conforming_strings, on by default: backslashes are plain). */
    private static String sqlQuote(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** One wanted setting: its plain value, its postgresql.conf and SQL spellings, and how to judge the cluster's. */
    private record Wanted(String name, String value, String confValue, String sqlValue, boolean needsRestart,
                          Function<String, SettingCheck.Status> judge) {
        SettingCheck check(String actual) {
            return new SettingCheck(name, value, actual, judge.apply(actual), needsRestart);
        }
    }
}
