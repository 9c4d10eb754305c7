package io.pgbackup.core.internal.archive;

import io.pgbackup.core.archive.ArchiveSetup.InitResult.ScriptInstall;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.PgBackupVersion;
import io.pgbackup.core.config.RemoteConfig;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.s3.S3Settings;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text of {@code scripts/archive_wal.sh} and {@code scripts/restore_wal.sh}, and the
 * {@code archive_command}/{@code restore_command} values that call them. The shell templates are
 * resources next to this class; every value put into them is a single-quoted shell literal, so any
 * path (spaces, quotes, {@code $}) is safe. No credential ever goes into a script: archiving needs
 * none, and remote sync relies on the user's SSH keys.
 */
public final class ArchiveScripts {
    private static final Pattern PLACEHOLDER = Pattern.compile("@@([A-Z0-9_]+)@@");
    /** Characters that need no quoting in a shell word. */

    private final Repository repository;
    private final Compression compression;
    private final RemoteConfig remote;
    private final S3Settings s3;
    private final List<String> launcher;
    private final io.pgbackup.core.config.ArchiverConfig archiver;
    private String configFile = "";
    private io.pgbackup.core.config.EncryptionConfig encryption = io.pgbackup.core.config.EncryptionConfig.none();

    /** The scripts for the repository and settings of {@code context}: compression, remote, bucket, launcher. */
    public static ArchiveScripts of(io.pgbackup.core.internal.PgBackupContext context, Repository repository) {
        ArchiveScripts scripts = new ArchiveScripts(repository, context.config().compression(), context.config().remote(),
                context.config().s3(), context.launcher(), context.config().archiver());
        // The pgbackup the scripts start reads the same configuration file as init did.
        scripts.configFile = context.config().configFile().map(Object::toString).orElse("");
        scripts.encryption = context.config().encryption();
        return scripts;
    }

    public ArchiveScripts(Repository repository, Compression compression, Optional<RemoteConfig> remote) {
        this(repository, compression, remote, Optional.empty(), List.of());
    }

    /**
     * @throws PgBackupException {@link ErrorCode#INVALID_CONFIG} when the compression has no shell
     *         counterpart or the backup directory's name cannot go into a configuration line
     */
    public ArchiveScripts(Repository repository, Compression compression, Optional<RemoteConfig> remote,
                          Optional<S3Settings> s3, List<String> launcher) {
        this(repository, compression, remote, s3, launcher, io.pgbackup.core.config.ArchiverConfig.defaults());
    }

    public ArchiveScripts(Repository repository, Compression compression, Optional<RemoteConfig> remote,
                          Optional<S3Settings> s3, List<String> launcher, io.pgbackup.core.config.ArchiverConfig archiver) {
        this.archiver = Objects.requireNonNull(archiver, "archiver");
        this.s3 = s3.orElse(null);
        this.launcher = List.copyOf(launcher);
        this.repository = Objects.requireNonNull(repository, "repository");
        this.compression = Objects.requireNonNull(compression, "compression");
        this.remote = remote.orElse(null);
        String root = repository.root().toString();
        if (root.chars().anyMatch(Character::isISOControl)) {
            throw new PgBackupException(ErrorCode.INVALID_CONFIG,
                    "PG_BACKUP_DIR contains a control character (newline, tab): choose a plain directory name");
        }
    }

    /** The {@code archive_command} value (unquoted, as PostgreSQL shows it): {@code <dir>/scripts/archive_wal.sh %p %f}. */
    public String archiveCommand() {
        return commandWord(repository.archiveScript().toString()) + " %p %f";
    }

    /** The {@code restore_command} value: {@code <dir>/scripts/restore_wal.sh %f %p}. */
    public String restoreCommand() {
        return commandWord(repository.restoreScript().toString()) + " %f %p";
    }

    /** The {@code recovery_end_command} value: drops what restore prefetched and replay did not need. */
    public String recoveryEndCommand() {
        return commandWord(repository.restoreScript().toString()) + " --end-of-recovery";
    }

    public String archiveScript() {
        String remoteHost = remote == null ? "" : remote.host();
        return render("archive_wal.sh", Map.ofEntries(Map.entry("S3_SETTINGS", s3Settings()),
                Map.entry("ARCHIVER", mode() == io.pgbackup.core.config.ArchiverConfig.Mode.ASYNC ? "async" : "sync"),
                Map.entry("ACK_TIMEOUT", String.valueOf(archiver.ackTimeoutSeconds())),
                Map.entry("ARCHIVER_SETTINGS", "ARCHIVER_WORKERS=" + archiver.workers() + "\nARCHIVER_REPO="
                        + (archiver.bucketOnly() ? "s3" : "local") + "\nARCHIVER_IDLE_EXIT=" + archiver.idleExitSeconds()),
                Map.entry("PGBACKUP", launcherWords()),
                Map.entry("BACKUP_DIR", shellQuote(repository.root().toString())),
                Map.entry("COMPRESSION", shellQuote(compression.cliName())),
                Map.entry("SUFFIX", shellQuote(compression.suffix())),
                Map.entry("REMOTE_HOST", shellQuote(remoteHost)),
                Map.entry("REMOTE_USER", shellQuote(remote == null ? "" : remote.user())),
                Map.entry("REMOTE_DIR", shellQuote(remote == null ? "" : remote.dir())),
                Map.entry("REMOTE_PORT", shellQuote(remote == null ? "" : String.valueOf(remote.port()))),
                Map.entry("REMOTE_SSH", shellQuote(remote == null ? RemoteConfig.DEFAULT_SSH_COMMAND : remote.sshCommand())),
                // What the archiver and the script share, defined once on the Java side.
                Map.entry("SPOOL_DIR", ArchiveSpool.shellSpoolDir()),
                Map.entry("LOG_LINE", ArchiveLogFormat.shellLine()),
                Map.entry("LOUD_LEVELS", ArchiveLogFormat.shellLoudLevels()),
                Map.entry("LOOKUP_SUFFIXES", String.join(" ",
                        SegmentStore.lookupOrder(compression).stream().map(ArchiveScripts::shellQuote).toList())),
                Map.entry("RESULT_NEW", SegmentStore.Rule.NEW.result()),
                Map.entry("EXIT_NEW", String.valueOf(SegmentStore.Rule.NEW.exitCode())),
                Map.entry("RESULT_IDENTICAL", SegmentStore.Rule.IDENTICAL.result()),
                Map.entry("EXIT_IDENTICAL", String.valueOf(SegmentStore.Rule.IDENTICAL.exitCode())),
                Map.entry("RESULT_CONFLICT", SegmentStore.Rule.CONFLICT.result()),
                Map.entry("EXIT_CONFLICT", String.valueOf(SegmentStore.Rule.CONFLICT.exitCode()))));
    }

    public String restoreScript() {
        return render("restore_wal.sh", Map.of("BACKUP_DIR", shellQuote(repository.root().toString()),
                "S3_SETTINGS", s3Settings(), "PGBACKUP", launcherWords(),
                "FETCH_AHEAD", String.valueOf(launcher.isEmpty() ? 0 : archiver.fetchAhead())));
    }

    /** How archive_wal.sh archives: async needs a pgbackup command to start the archiver with. */
    public io.pgbackup.core.config.ArchiverConfig.Mode mode() {
        return archiver.effectiveMode(!launcher.isEmpty());
    }

    /**
     * The bucket's settings as shell assignments, exported to the pgbackup the scripts start (never
     * credentials: those come from the SDK's chain in PostgreSQL's environment). Empty bucket: none.
     */
    private String s3Settings() {
        StringBuilder out = new StringBuilder();
        out.append("S3_BUCKET=").append(shellQuote(s3 == null ? "" : s3.bucket())).append('\n');
        out.append("S3_PREFIX=").append(shellQuote(s3 == null ? "" : s3.prefix())).append('\n');
        out.append("S3_REGION=").append(shellQuote(s3 == null ? "" : s3.region())).append('\n');
        out.append("S3_ENDPOINT=").append(shellQuote(s3 == null ? "" : s3.endpoint().map(Object::toString).orElse(""))).append('\n');
        out.append("S3_PATH_STYLE=").append(shellQuote(s3 == null ? "" : String.valueOf(s3.pathStyle())));
        return out.toString();
    }

    /**
     * {@code SEALED=1} when encryption is on, and where the key comes from (a path or a command, never
     * the key), exported to the pgbackup the scripts start: the archiver seals, wal-fetch opens.
     */
    private String encryptionSettings() {
        StringBuilder out = new StringBuilder("SEALED=").append(encryption.enabled() ? 1 : 0);
        encryption.keyFile().ifPresent(f -> export(out, io.pgbackup.core.config.EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_FILE, f.toString()));
        encryption.keyCommand().ifPresent(c -> export(out, io.pgbackup.core.config.EncryptionConfig.PG_BACKUP_ENCRYPTION_KEY_COMMAND, c));
        encryption.publicKeyFile().ifPresent(f -> export(out,
                io.pgbackup.core.config.EncryptionConfig.PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE, f.toString()));
        return out.toString();
    }

    private static void export(StringBuilder out, String name, String value) {
        out.append('\n').append(name).append('=').append(shellQuote(value)).append("; export ").append(name);
    }

    /** The pgbackup command as shell words: the launcher, else {@code pgbackup} from PATH. */
    private String launcherWords() {
        List<String> words = launcher.isEmpty() ? List.of("pgbackup") : launcher;
        return String.join(" ", words.stream().map(ArchiveScripts::shellQuote).toList());
    }

    /** {@code value} as one single-quoted POSIX shell word. */
    public static String shellQuote(String value) {
        return io.pgbackup.core.internal.postgres.PgConfText.shellQuote(value);
    }

    /** A program path as a word of the command PostgreSQL runs (see {@link io.pgbackup.core.internal.postgres.PgConfText#commandWord}). */
    private static String commandWord(String path) {
        return io.pgbackup.core.internal.postgres.PgConfText.commandWord(path);
    }

    private String render(String template, Map<String, String> values) {
        String text = resource(template).replace("@@DECOMPRESS@@", resource("decompress.sh").strip());
        Map<String, String> all = new HashMap<>(values);
        all.put("VERSION", PgBackupVersion.get());
        all.put("CONFIG_FILE", shellQuote(configFile));
        all.put("ENCRYPTION_SETTINGS", encryptionSettings());
        // The suffix table is Compression's: the scripts read by suffix what Java writes.
        List<String> suffixes = Arrays.stream(Compression.values()).map(Compression::suffix).filter(x -> !x.isEmpty()).toList();
        all.put("KNOWN_SUFFIXES_WORDS", String.join(" ", suffixes));
        for (Compression c : Compression.values()) {
            all.put("SUFFIX_" + c.name(), c.suffix());
        }
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder(text.length() + 256);
        while (m.find()) {
            String value = all.get(m.group(1));
            if (value == null) {
                throw new IllegalStateException(template + " has an unknown placeholder " + m.group());
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String resource(String name) {
        try (InputStream in = ArchiveScripts.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name + " next to " + ArchiveScripts.class.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> SCRIPT_MODE =
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");

    /** Whether {@code target} is an installed script whose content is not {@code text} (a missing one differs from nothing). */
    public static boolean differs(java.nio.file.Path target, String text) {
        try {
            return java.nio.file.Files.isRegularFile(target) && !holds(target, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // Unreadable: install replaces it, so it is treated as changed.
            return true;
        }
    }

    private static boolean holds(java.nio.file.Path target, byte[] content) throws IOException {
        return java.util.Arrays.equals(java.nio.file.Files.readAllBytes(target), content);
    }

    /**
     * Writes {@code text} to {@code target} unless it already holds exactly that with the right
     * mode, so a re-run leaves a working script (and its mtime) alone. PostgreSQL may call the
     * script at any moment, so a new version replaces the old one atomically, already executable.
     */
    public static ScriptInstall install(java.nio.file.Path target, String text) throws IOException {
        byte[] content = text.getBytes(StandardCharsets.UTF_8);
        boolean exists = java.nio.file.Files.isRegularFile(target);
        if (exists && holds(target, content)
                && java.nio.file.Files.getPosixFilePermissions(target).equals(SCRIPT_MODE)) {
            return new ScriptInstall(target, ScriptInstall.State.UNCHANGED);
        }
        java.nio.file.Files.createDirectories(target.getParent());
        io.pgbackup.core.internal.storage.AtomicFiles.write(target, content, SCRIPT_MODE);
        return new ScriptInstall(target, exists ? ScriptInstall.State.UPDATED : ScriptInstall.State.INSTALLED);
    }
}
