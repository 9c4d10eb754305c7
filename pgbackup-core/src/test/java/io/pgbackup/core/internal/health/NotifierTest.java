package io.pgbackup.core.internal.health;

import io.pgbackup.core.storage.Storage;
import io.pgbackup.core.health.HealthSettings.NotifySettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The notify command run for real: events on stdin, failure/recovery/success, transitions, the timeout. */
class NotifierTest {
    @TempDir
    Path dir;

    @Test
    void failureThenRecoveryAndSuccessOnlyWhenAskedFor() throws Exception {
        Path events = dir.resolve("events");
        Path script = script("cat >> '" + events + "'");
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Notifier failuresOnly = new Notifier(new NotifySettings(List.of(script.toString()), false, Duration.ofSeconds(10)),
                Storage.local(repo), Clock.systemUTC());
        assertThat(failuresOnly.outcome("backup", true, "backup succeeded", "/repo", "7")).isEmpty();
        assertThat(events).doesNotExist();
        assertThat(failuresOnly.outcome("backup", false, "cannot connect\nto the server", "/repo", "7")).isEmpty();
        assertThat(failuresOnly.outcome("backup", true, "backup succeeded", "/repo", "7")).isEmpty();
        List<String> lines = Files.readAllLines(events);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"event\":\"failure\"").contains("\"command\":\"backup\"")
                .contains("\"message\":\"cannot connect to the server\"").contains("\"systemIdentifier\":\"7\"");
        assertThat(lines.get(1)).contains("\"event\":\"recovery\"");
        assertThat(Files.getPosixFilePermissions(repo.resolve("health").resolve("last-backup.json")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));

        Notifier all = new Notifier(new NotifySettings(List.of(script.toString()), true, Duration.ofSeconds(10)),
                Storage.local(repo), Clock.systemUTC());
        all.outcome("verify", true, "verify succeeded", "/repo", null);
        assertThat(Files.readAllLines(events)).last().asString().contains("\"event\":\"success\"").contains("\"command\":\"verify\"");
    }

    @Test
    void transitionsPageOncePerChange() throws Exception {
        Path events = dir.resolve("events");
        Notifier n = new Notifier(new NotifySettings(List.of(script("cat >> '" + events + "'").toString()), false,
                Duration.ofSeconds(10)), Storage.local(dir), Clock.systemUTC());
        n.transition("archive", true, "ok", "/repo", null);
        n.transition("archive", false, "archiving is failing", "/repo", null);
        n.transition("archive", false, "archiving is failing", "/repo", null);
        n.transition("archive", true, "archiving works again", "/repo", null);
        n.transition("archive", true, "archiving works again", "/repo", null);
        assertThat(Files.readAllLines(events)).hasSize(2).satisfiesExactly(
                l -> assertThat(l).contains("\"event\":\"failure\""), l -> assertThat(l).contains("\"event\":\"recovery\""));
    }

    @Test
    void aHangingCommandIsKilledAtTheTimeoutAndTheCallerGoesOn() throws Exception {
        Path pidFile = dir.resolve("pid");
        Path script = script("echo $$ > '" + pidFile + "'\nexec sleep 600");
        Notifier n = new Notifier(new NotifySettings(List.of(script.toString()), false, Duration.ofSeconds(1)), null, Clock.systemUTC());
        assertThat(n.outcome("sync", false, "rsync failed", "/repo", null)).hasValueSatisfying(w ->
                assertThat(w).contains("did not finish within 1 s").contains("killed"));
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(new Notifier(new NotifySettings(List.of(dir.resolve("missing").toString()), false, Duration.ofSeconds(1)), null,
                Clock.systemUTC()).outcome("sync", false, "x", "/repo", null)).hasValueSatisfying(w -> assertThat(w).contains("could not start"));
    }

    @Test
    void settingsAreSplitWithoutAShellAndValidated() {
        NotifySettings s = NotifySettings.fromEnvironment(Map.of("PG_BACKUP_NOTIFY_COMMAND", "/usr/local/bin/notify --channel 'ops team'",
                "PG_BACKUP_NOTIFY_ON", "all", "PG_BACKUP_NOTIFY_TIMEOUT", "3"));
        assertThat(s.command()).containsExactly("/usr/local/bin/notify", "--channel", "ops team");
        assertThat(s.all()).isTrue();
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(NotifySettings.fromEnvironment(Map.of()).enabled()).isFalse();
        assertThatThrownBy(() -> NotifySettings.fromEnvironment(Map.of("PG_BACKUP_NOTIFY_ON", "errors")))
                .hasMessage("PG_BACKUP_NOTIFY_ON='errors' is not failure or all: set it to failure (failures and recoveries) or all");
        assertThatThrownBy(() -> NotifySettings.fromEnvironment(Map.of("PG_BACKUP_NOTIFY_TIMEOUT", "0")))
                .hasMessageStartingWith("PG_BACKUP_NOTIFY_TIMEOUT='0' is not a number of seconds");
        assertThat(Notifier.SECRET.matcher("PG_PASSWORD").matches()).isTrue();
        assertThat(Notifier.SECRET.matcher("PGPASSWORD").matches()).isTrue();
        assertThat(Notifier.SECRET.matcher("AWS_SECRET_ACCESS_KEY").matches()).isTrue();
        assertThat(Notifier.SECRET.matcher("PG_BACKUP_S3_ACCESS_KEY").matches()).isTrue();
        assertThat(Notifier.SECRET.matcher("PATH").matches()).isFalse();
    }

    private Path script(String body) throws Exception {
        Path script = Files.createTempFile(dir, "notify", ".sh");
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }
}
