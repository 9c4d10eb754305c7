package io.pgbackup.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.nio.file.Path;
import java.util.List;

/** {@code --config FILE}, accepted before or after the subcommand: the settings file, under the environment. */
final class ConfigOption {
    static final String NAME = "--config";

    @Option(names = NAME, paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Read settings from FILE (KEY=value lines, as systemd's EnvironmentFile=; the environment wins). Default: $PG_BACKUP_CONFIG.")
    Path file;

    /** The options of the root command that take a value, so the subcommand's name can be found before parsing. */
    static final List<String> ROOT_OPTIONS_WITH_VALUE = List.of(NAME);
}
