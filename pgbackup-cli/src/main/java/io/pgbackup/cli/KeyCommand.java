package io.pgbackup.cli;

import io.pgbackup.core.crypto.Encryption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;

@Command(name = "key", mixinStandardHelpOptions = true, subcommands = KeyCommand.Generate.class, description = {
        "Manage the key that seals the repository (encryption at rest).",
        "Point PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND, or _PUBLIC_KEY_FILE on a host that must not read back) at it."})
final class KeyCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "key needs a subcommand: key generate --out FILE");
    }

    @Command(name = "generate", mixinStandardHelpOptions = true, description = {
            "Write a new key to FILE (mode 0600; never over an existing file).",
            "Keep a copy of it somewhere safe: without it nothing sealed with it can be restored."})
    static final class Generate extends BaseCommand {
        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The new key file.")
        Path out;

        @Option(names = "--public-out", paramLabel = "PUB", description = {
                "Make a key pair and write its public half to PUB.",
                "A host given only PUB (PG_BACKUP_ENCRYPTION_PUBLIC_KEY_FILE) backs up and archives but cannot read anything back."})
        Path publicOut;

        @Override
        protected int execute() {
            Encryption.GeneratedKey key = pgBackupWithoutRepository(out.toAbsolutePath().getParent()).encryption()
                    .generateKey(out.toAbsolutePath(), Optional.ofNullable(publicOut).map(Path::toAbsolutePath));
            out().println("key " + key.keyId() + " written to " + key.keyFile() + " (mode 0600)"
                    + key.publicKeyFile().map(p -> "; its public half to " + p).orElse("")
                    + ". Keep a copy of the key file apart from the backups: without it they cannot be restored.");
            return 0;
        }
    }
}
