package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.HealthSettings.NotifySettings;
import io.pgbackup.core.health.CheckReport;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.RepositoryJson;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Tells {@code PG_BACKUP_NOTIFY_COMMAND} about a command's outcome. The last outcome of each
 * command kind is kept in the repository's {@code health/last-<kind>.json} (one small file per kind,
 * so the archiver and a backup never overwrite each other's), which turns a success after a
 * failure into a {@code recovery} event.
 */
public final class Notifier {
    /** Environment variables the notify program never sees: passwords, keys, tokens, the AWS credentials. */
    static final Pattern SECRET = Pattern.compile("(?i).*(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|_KEY$|^AWS_|PGPASSFILE|^PG_BACKUP_S3_).*");

    /** Where in the repository the last outcomes are kept. */
    static final String PREFIX = "health/";

    private final NotifySettings settings;
    private final Storage repository;
    private final Clock clock;
    private final ObjectMapper mapper = RepositoryJson.newMapper();

    /**
     * @param repository the repository whose {@code health/} keeps the last outcomes, written like
     *                   every other object through its {@link Storage}; null: nowhere (no recovery events)
     */
    public Notifier(NotifySettings settings, Storage repository, Clock clock) {
        this.settings = settings;
        this.repository = repository;
        this.clock = clock;
    }

    /** The last outcome of a command kind, as recorded. */
    public record LastOutcome(boolean ok, OffsetDateTime time, String message) {
    }

    /**
     * Records the outcome of {@code kind} and runs the notify command when it is worth an event.
     *
     * @return a one-line warning when the notify command failed or timed out, else empty
     */
    public Optional<String> outcome(String kind, boolean ok, String message, String repository, String systemIdentifier) {
        Optional<LastOutcome> previous = last(kind);
        OffsetDateTime now = OffsetDateTime.now(clock);
        String line = CheckReport.oneLine(message);
        if (previous.isEmpty() || previous.get().ok() != ok) {
            record(kind, new LastOutcome(ok, now, line));
        }
        String event = !ok ? "failure" : previous.isPresent() && !previous.get().ok() ? "recovery" : settings.all() ? "success" : null;
        if (event == null || !settings.enabled()) {
            return Optional.empty();
        }
        return run(new NotifyEvent(event, kind, systemIdentifier, repository, line, now, host()));
    }

    /**
     * For outcomes observed over and over (archiving, judged at every check and archiver batch):
     * an event only when the outcome changes, so a failing archive pages once, not every minute.
     */
    public Optional<String> transition(String kind, boolean ok, String message, String repository, String systemIdentifier) {
        Optional<LastOutcome> previous = last(kind);
        if (previous.isEmpty() ? ok : previous.get().ok() == ok) {
            if (previous.isEmpty()) {
                record(kind, new LastOutcome(true, OffsetDateTime.now(clock), CheckReport.oneLine(message)));
            }
            return Optional.empty();
        }
        return outcome(kind, ok, message, repository, systemIdentifier);
    }

    public Optional<LastOutcome> last(String kind) {
        if (repository == null) {
            return Optional.empty();
        }
        try {
            return repository.stat(key(kind)).isPresent()
                    ? Optional.of(mapper.readValue(repository.read(key(kind)), LastOutcome.class)) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private void record(String kind, LastOutcome outcome) {
        if (repository == null) {
            return;
        }
        try {
            // A local repository: temporary file, fsync, rename, owner-only; a bucket: visible only when whole.
            repository.write(key(kind), mapper.writeValueAsBytes(outcome), Storage.WriteMode.REPLACE);
        } catch (IOException | RuntimeException e) {
            // Without the record the next success is a plain success, not a recovery; the command's outcome stands.
        }
    }

    private static String key(String kind) {
        return PREFIX + "last-" + kind.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "_") + ".json";
    }

    /** Runs the program with the event on stdin, without a shell, for at most the timeout. */
    Optional<String> run(NotifyEvent event) {
        ProcessBuilder pb = new ProcessBuilder(settings.command())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(name -> SECRET.matcher(name).matches());
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            return Optional.of("the notify command " + settings.command().get(0) + " could not start: " + e.getMessage());
        }
        try {
            try (OutputStream in = process.getOutputStream()) {
                in.write(mapper.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(event).getBytes(StandardCharsets.UTF_8));
                in.write('\n');
            } catch (IOException e) {
                // It need not read its stdin.
            }
            if (!process.waitFor(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                // Reaped before we go on (bounded): a killed command leaves no process behind.
                process.waitFor(5, TimeUnit.SECONDS);
                return Optional.of("the notify command " + settings.command().get(0) + " did not finish within "
                        + settings.timeout().toSeconds() + " s (" + "PG_BACKUP_NOTIFY_TIMEOUT): killed");
            }
            return process.exitValue() == 0 ? Optional.empty()
                    : Optional.of("the notify command " + settings.command().get(0) + " exited with " + process.exitValue());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while the notify command ran");
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
