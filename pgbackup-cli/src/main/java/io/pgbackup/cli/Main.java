package io.pgbackup.cli;

import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.PgBackupVersion;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;

/**
 * {@code pgbackup}: parses, calls pgbackup-core, renders. Exit codes: 0 success, 1 failure,
 * 2 usage error (bad flag, bad setting); {@code check} alone exits 3 (Nagios UNKNOWN) when it cannot run. Errors are one line on stderr; {@code -v} adds the stack.
 */
@Command(name = "pgbackup", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "PostgreSQL WAL archiving, base backups and point-in-time recovery.")
public final class Main implements Runnable {
    /**
     * The subcommands, in the order help lists them. Only the one a command line names is built:
     * picocli reflects over every registered command at start-up, which cost more than the JVM
     * itself (see CHANGELOG); help, errors and the CDS warm-up get them all.
     */
    static final Map<String, Class<?>> SUBCOMMANDS = subcommands(
            InitCommand.class, BackupCommand.class, ListCommand.class, StatusCommand.class, CheckCommand.class, MetricsCommand.class,
            RestoreCommand.class, VerifyCommand.class, CleanupCommand.class, SyncCommand.class, WalFetchCommand.class, ArchiverCommand.class,
            ScheduleCommand.class, DemoCommand.class, ReportCommand.class,
            KeyCommand.class, DecryptCommand.class, ArchiveEventCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    VerboseOption verbose;

    @CommandLine.Mixin
    ConfigOption config;

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    /** Runs one command line against {@code env}; returns the exit code. In-process tests call this. */
    public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        boolean verbose = VerboseOption.requested(args);
        Logging.configure(verbose);
        CliContext context = new CliContext(env, out, err, verbose);
        CommandFactory factory = new CommandFactory(context);
        CommandLine commandLine = new CommandLine(new Main(), factory);
        Class<?> named = SUBCOMMANDS.get(firstPositional(args));
        if (named != null) {
            commandLine.addSubcommand(new CommandLine(named, factory));
        } else {
            SUBCOMMANDS.values().forEach(cls -> commandLine.addSubcommand(new CommandLine(cls, factory)));
            commandLine.addSubcommand(new CommandLine(WarmUpCommand.class, factory));
            commandLine.addSubcommand(new CommandLine(CommandLine.HelpCommand.class, factory));
        }
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setParameterExceptionHandler(Main::onBadUsage);
        String[] failure = new String[1];
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            failure[0] = ex instanceof PgBackupException ? ex.getMessage() : "unexpected error: " + ex;
            return onFailure(ex, cmd, context);
        });
        int code = commandLine.execute(args);
        afterCommand(commandLine, context, code, failure[0]);
        return code;
    }

    /** Notifications and the metrics file (PG_BACKUP_NOTIFY_COMMAND, PG_BACKUP_METRICS_FILE); usage errors (2) are neither. */
    private static void afterCommand(CommandLine commandLine, CliContext context, int code, String failure) {
        CommandLine.ParseResult parsed = commandLine.getParseResult();
        if (parsed == null || !parsed.hasSubcommand() || (code != 0 && code != 1)
                || parsed.subcommand().isUsageHelpRequested() || parsed.subcommand().isVersionHelpRequested()) {
            return; // 'backup --help' ran no backup: no outcome to tell
        }
        String name = parsed.subcommand().commandSpec().name();
        // --config reaches the notify and metrics settings as PG_BACKUP_CONFIG would.
        java.nio.file.Path configFile = parsed.subcommand().matchedOptionValue(ConfigOption.NAME,
                parsed.<java.nio.file.Path>matchedOptionValue(ConfigOption.NAME, null));
        java.util.Map<String, String> env = new java.util.HashMap<>(context.env());
        if (configFile != null) {
            env.put(io.pgbackup.core.config.EnvSettings.PG_BACKUP_CONFIG, configFile.toString());
        }
        io.pgbackup.core.PgBackup.afterCommand(env, name, code == 0,
                failure != null ? failure : name + " exited with " + code)
                .forEach(w -> context.err().println("pgbackup: warning: " + w));
    }

    /** The first argument that is not an option or the value of one ({@code --config FILE}). */
    private static String firstPositional(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--")) {
                return null;
            }
            if (ConfigOption.ROOT_OPTIONS_WITH_VALUE.contains(arg)) {
                i++;
            } else if (!arg.startsWith("-")) {
                return arg;
            }
        }
        return null;
    }

    private static Map<String, Class<?>> subcommands(Class<?>... commands) {
        Map<String, Class<?>> byName = new java.util.LinkedHashMap<>();
        for (Class<?> cls : commands) {
            byName.put(cls.getAnnotation(Command.class).name(), cls);
        }
        return java.util.Collections.unmodifiableMap(byName);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static int onBadUsage(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        if (isCheck(cmd)) {
            // A Nagios plugin that cannot run is UNKNOWN (3), not CRITICAL (2, every other command's usage error).
            cmd.getOut().println("PGBACKUP UNKNOWN - " + ex.getMessage().replace('|', '/'));
            err.println("pgbackup: " + ex.getMessage());
            return CheckCommand.UNKNOWN;
        }
        err.println("pgbackup: " + ex.getMessage());
        err.println("Usage: " + cmd.getHelp().synopsis(0).strip() + "  (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
        return 2;
    }

    private static boolean isCheck(CommandLine cmd) {
        return cmd.getCommandSpec().userObject() instanceof CheckCommand;
    }

    private static int onFailure(Exception ex, CommandLine cmd, CliContext context) {
        PrintWriter err = cmd.getErr();
        if (isCheck(cmd)) {
            cmd.getOut().println("PGBACKUP UNKNOWN - " + String.valueOf(ex.getMessage()).replace('|', '/').replace('\n', ' '));
            return CheckCommand.UNKNOWN;
        }
        if (ex instanceof PgBackupException failure) {
            err.println("pgbackup: " + failure.getMessage());
            if (context.verbose()) {
                ex.printStackTrace(err);
            }
            return failure.code().isUsageError() ? 2 : 1;
        }
        err.println("pgbackup: unexpected error: " + ex + (context.verbose() ? "" : " (run with -v for details)"));
        if (context.verbose()) {
            ex.printStackTrace(err);
        }
        return 1;
    }

    /** {@code --version}: the library's version and the JVM's. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgbackup " + PgBackupVersion.get(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }

    /** Hands each command the CLI context (environment, streams) instead of a static. */
    private static final class CommandFactory implements CommandLine.IFactory {
        private final CliContext context;
        private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

        CommandFactory(CliContext context) {
            this.context = context;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            K instance = fallback.create(cls);
            if (instance instanceof BaseCommand command) {
                command.context = context;
            }
            return instance;
        }
    }
}
