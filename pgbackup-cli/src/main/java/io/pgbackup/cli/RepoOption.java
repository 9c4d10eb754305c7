package io.pgbackup.cli;

import io.pgbackup.core.PgBackup;
import picocli.CommandLine.Option;

/** {@code --repo auto|local|s3}: which repository a reading command uses. */
final class RepoOption {
    @Option(names = "--repo", paramLabel = "auto|local|s3", defaultValue = "auto", converter = Converter.class,
            description = {"Where to read the repository: local (PG_BACKUP_DIR), s3 (the bucket of PG_BACKUP_S3_*),"
                    + " or auto (default): local when PG_BACKUP_DIR holds an initialized repository, else the bucket if one is configured."})
    PgBackup.RepositorySource source = PgBackup.RepositorySource.AUTO;

    @Option(names = "--from-s3", description = "The same as --repo s3: recover from the bucket alone.")
    boolean fromS3;

    PgBackup.RepositorySource source() {
        return fromS3 ? PgBackup.RepositorySource.S3 : source;
    }

    @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
    picocli.CommandLine.Model.CommandSpec mixee;

    /** Whether --repo or --from-s3 was on the command line (not the default auto). */
    boolean given() {
        return fromS3 || (mixee != null && mixee.commandLine() != null && mixee.commandLine().getParseResult() != null
                && mixee.commandLine().getParseResult().hasMatchedOption("--repo"));
    }

    /** The source the command's {@link RepoOption} mixin names; local for a command without one. */
    static PgBackup.RepositorySource sourceOf(picocli.CommandLine.Model.CommandSpec command) {
        for (picocli.CommandLine.Model.CommandSpec mixin : command.mixins().values()) {
            if (mixin.userObject() instanceof RepoOption repo) {
                return repo.source();
            }
        }
        return PgBackup.RepositorySource.LOCAL;
    }

    static final class Converter implements picocli.CommandLine.ITypeConverter<PgBackup.RepositorySource> {
        @Override
        public PgBackup.RepositorySource convert(String value) {
            return switch (value.toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> PgBackup.RepositorySource.AUTO;
                case "local" -> PgBackup.RepositorySource.LOCAL;
                case "s3" -> PgBackup.RepositorySource.S3;
                default -> throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not auto, local or s3");
            };
        }
    }
}
