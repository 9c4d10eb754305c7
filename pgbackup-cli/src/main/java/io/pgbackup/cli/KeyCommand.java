package io.pgbackup.cli;

import io.pgbackup.core.crypto.Encryption;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;

@Command(name = "key", mixinStandardHelpOptions = true, subcommands = {KeyCommand.Generate.class, KeyCommand.Check.class, KeyCommand.Rotate.class}, description = {
        "Manage the key that seals the repository (encryption at rest).",
        "Point PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND, or _PUBLIC_KEY_FILE on a host that must not read back) at it."})
final class KeyCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "key needs a subcommand: key generate --out FILE, key check, or key rotate --new-key-file NEW");
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

    @Command(name = "check", mixinStandardHelpOptions = true, description = {
            "Check the configured key (PG_BACKUP_ENCRYPTION_KEY_FILE, _KEY_COMMAND or _PUBLIC_KEY_FILE) before it is needed.",
            "A throwaway data key is wrapped with it and 64 KiB sealed, then (private key) unwrapped and opened, in memory.",
            "Nothing is written; no repository is needed."})
    static final class Check extends BaseCommand {
        @Option(names = "--json", description = "Print the result as JSON.")
        boolean json;

        @Override
        protected int execute() {
            // The configured key, with or without PG_BACKUP_DIR: the check never opens the repository.
            var config = config();
            Encryption.KeyCheck check = io.pgbackup.core.PgBackup.builder(config.backupDir().isPresent() ? config
                    : config.toBuilder().backupDir(Path.of("").toAbsolutePath()).build()).build().encryption().check();
            if (json) {
                printJson(check);
                return 0;
            }
            out().println(check.opens()
                    ? "key " + check.keyId() + " seals and opens: a data key wrapped and unwrapped, " + check.sampleBytes()
                    + " bytes sealed and opened in memory; nothing was written"
                    : "key " + check.keyId() + " seals (" + check.sampleBytes() + " bytes in memory; nothing was written) and,"
                    + " as a public key, cannot open: this host can back up and archive, not restore");
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true, description = {
            "Re-wrap every data key of the repository and of the configured S3 bucket under the key in NEW.",
            "The data is not re-encrypted; afterwards the configured key opens nothing: point PG_BACKUP_ENCRYPTION_KEY_FILE at NEW.",
            "Interrupted, run it again: it finishes what is left."})
    static final class Rotate extends BaseCommand {
        @Option(names = "--new-key-file", required = true, paramLabel = "NEW",
                description = "The new key file ('pgbackup key generate --out NEW'; mode 0600).")
        Path newKeyFile;

        @Option(names = "--dry-run", description = "Print the keyset records it would re-wrap; change nothing.")
        boolean dryRun;

        @Option(names = "--json", description = "Print the plan and result as JSON.")
        boolean json;

        @Override
        protected int execute() {
            Encryption.Rotation r = pgBackup().encryption().rotateKey(newKeyFile.toAbsolutePath(), dryRun);
            if (json) {
                printJson(r);
                return 0;
            }
            out().println("key rotate: from key " + r.oldKeyId() + " to key " + r.newKeyId() + ", " + r.records().size()
                    + " keyset record(s)");
            for (Encryption.KeysetRecordPlan p : r.records()) {
                out().printf("  %-15s %s (wrapped under %s)%n", p.step(), p.location(), String.join(", ", p.wrapKeyIds()));
            }
            if (r.dryRun()) {
                out().println("dry run: nothing was changed");
            } else {
                out().println("key rotate done: " + r.records().size() + " keyset record(s) wrapped under key " + r.newKeyId()
                        + " only (" + r.rewritten() + " write(s)); point PG_BACKUP_ENCRYPTION_KEY_FILE at " + newKeyFile
                        + " now: key " + r.oldKeyId() + " opens nothing any more");
            }
            return 0;
        }
    }
}
