package io.pgbackup.core.internal.postgres;

import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What pgbackup writes into postgresql.auto.conf and the commands in it, read back by the real
 * readers: PostgreSQL's configuration parser ({@code postgres -C}) and {@code /bin/sh}.
 */
class PgConfTextTest {
    /** Every character a directory name may hold that either layer reads specially. */
    static final String NASTY = "it's a \"q\" \\back\\ $(touch MARKER) `touch MARKER` $HOME 100% ;&|<>*?~#!{}[]";

    @TempDir
    Path work;

    @Test
    void literalsAreReadBackByPostgresExactly() throws Exception {
        for (String value : List.of(NASTY, "a\\'b", "\\", "''", "tab\there", "new\nline", "trailing\\", "ünïcødé", "")) {
            assertThat(readByPostgres("restore_command", PgConfText.literal(value))).as(value).isEqualTo(value);
        }
        assertThat(PgConfText.literal("a'b\\c")).isEqualTo("'a''b\\\\c'");
        assertThat(PgConfText.line("archive_mode", "off")).isEqualTo("archive_mode = 'off'\n");
    }

    /** The old spelling, quotes doubled only: the parser eats the backslash in front of a {@code $}. */
    @Test
    void doublingQuotesAloneLosesBackslashes() throws Exception {
        String value = "\"/x\\$(touch y)\"";
        assertThat(readByPostgres("restore_command", "'" + value.replace("'", "''") + "'")).isEqualTo("\"/x$(touch y)\"");
    }

    @Test
    void aCommandRunsTheScriptAtANastyPathAndNothingElse() throws Exception {
        Path dir = Files.createDirectories(work.resolve(NASTY.replace("MARKER", work.resolve("marker").toString())));
        Path script = dir.resolve("restore_wal.sh");
        Path out = work.resolve("args");
        Files.writeString(script, "#!/bin/sh\nprintf '%s|%s' \"$1\" \"$2\" > '" + out + "'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));

        String command = PgConfText.commandWord(script.toString()) + " %f %p";
        // Through the configuration file, then as PostgreSQL expands %f, %p and %% before sh -c.
        String read = readByPostgres("restore_command", PgConfText.literal(command));
        assertThat(read).isEqualTo(command);
        String expanded = read.replace("%f", "000000010000000000000002").replace("%p", "pg_wal/RECOVERYXLOG").replace("%%", "%");
        Process sh = new ProcessBuilder("/bin/sh", "-c", expanded).directory(work.toFile()).redirectErrorStream(true).start();
        String shOut = new String(sh.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(sh.waitFor(30, TimeUnit.SECONDS)).isTrue();

        assertThat(sh.exitValue()).as(expanded + ": " + shOut).isZero();
        assertThat(Files.readString(out)).isEqualTo("000000010000000000000002|pg_wal/RECOVERYXLOG");
        assertThat(work.resolve("marker")).doesNotExist();
    }

    @Test
    void shellQuoteIsOneWord() {
        assertThat(PgConfText.shellQuote("it's")).isEqualTo("'it'\\''s'");
        assertThat(PgConfText.commandWord("/plain/path.sh")).isEqualTo("/plain/path.sh");
        assertThat(PgConfText.commandWord("/a b/100%")).isEqualTo("\"/a b/100%%\"");
        assertThatThrownBy(() -> PgConfText.commandWord("/a\nb")).isInstanceOf(IllegalArgumentException.class);
    }

    /** The value of {@code name} as PostgreSQL's parser reads {@code name = literal} from postgresql.conf. */
    private String readByPostgres(String name, String literal) throws IOException, InterruptedException {
        Path data = Files.createTempDirectory(work, "conf");
        Files.writeString(data.resolve("postgresql.conf"), name + " = " + literal + "\n", StandardCharsets.UTF_8);
        Files.writeString(data.resolve("postgresql.auto.conf"), "");
        Process p = new ProcessBuilder(PgCluster.binaries().tool("postgres").toString(), "-D", data.toString(), "-C", name)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("postgres -C " + name + " for " + literal).isZero();
        return out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
    }
}
