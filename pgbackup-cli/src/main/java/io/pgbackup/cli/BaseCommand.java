package io.pgbackup.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.pgbackup.core.PgBackup;
import io.pgbackup.core.config.EnvSettings;
import io.pgbackup.core.config.PgBackupConfig;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;

/** What every subcommand shares: its context, the verbose flag, and rendering helpers. */
abstract class BaseCommand implements Callable<Integer> {
    CliContext context;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    protected picocli.CommandLine spec() {
        return spec.commandLine();
    }

    @Override
    public final Integer call() throws Exception {
        return execute();
    }

    /** Does the work; returns the exit code (failures are thrown as PgBackupException). */
    protected abstract int execute() throws Exception;

    protected PgBackupConfig config() {
        return PgBackupConfig.fromSettings(settings());
    }

    /** The environment over the configuration file of {@code --config} (else {@code PG_BACKUP_CONFIG}). */
    protected EnvSettings settings() {
        picocli.CommandLine.Model.OptionSpec option = spec == null ? null : spec.findOption(ConfigOption.NAME);
        java.nio.file.Path file = option == null ? null : option.getValue();
        return EnvSettings.load(context.env(), file);
    }

    protected PgBackup pgBackup() {
        PgBackup pg = PgBackup.builder(config()).repositorySource(repositorySource())
                .launcher(Launcher.find().orElse(java.util.List.of())).build();
        if (repositorySource() == PgBackup.RepositorySource.AUTO && pg.config().s3().isPresent()
                && pg.readsBucket()) {
            err().println("pgbackup: " + pg.config().requireBackupDir() + " holds no initialized repository: reading "
                    + pg.repositoryLocation());
        } else if (repositorySource() == PgBackup.RepositorySource.S3 && announceRepository()) {
            err().println("pgbackup: repository " + pg.repositoryLocation());
        }
        return pg;
    }

    /**
     * A PgBackup for a command that never reads the repository (key generate): PG_BACKUP_DIR and a configured
     * key are not needed, so {@code dir} stands in for the one and no key is loaded.
     */
    protected PgBackup pgBackupWithoutRepository(java.nio.file.Path dir) {
        return PgBackup.builder(config().toBuilder().backupDir(dir)
                .encryption(io.pgbackup.core.config.EncryptionConfig.none()).build()).build();
    }

    /** Whether a command reading the bucket says so on stderr (not wal-fetch: restore_command output stays clean). */
    protected boolean announceRepository() {
        return true;
    }

    /** Which repository this command reads: its {@code --repo} mixin says, else local. */
    protected PgBackup.RepositorySource repositorySource() {
        return RepoOption.sourceOf(spec);
    }

    protected PrintStream out() {
        return context.out();
    }

    protected PrintStream err() {
        return context.err();
    }

    /** Prints {@code value} as pretty JSON on stdout (for --json). */
    protected void printJson(Object value) {
        try {
            out().println(Json.MAPPER.writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Paths render as plain paths, not file: URIs. A holder class, so that Jackson (hundreds of
     * classes) loads only when a command prints JSON, not at every start.
     */
    static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().registerModule(new JavaTimeModule())
            .registerModule(new com.fasterxml.jackson.datatype.jdk8.Jdk8Module())
            .registerModule(new com.fasterxml.jackson.databind.module.SimpleModule()
                    .addSerializer(java.nio.file.Path.class, com.fasterxml.jackson.databind.ser.std.ToStringSerializer.instance))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);
    }
}
