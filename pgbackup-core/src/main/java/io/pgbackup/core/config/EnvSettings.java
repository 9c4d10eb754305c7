package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The one place settings are read: the environment over the configuration file, each value
 * remembered with where it came from, and typed readers whose malformed-value message is one line
 * naming the variable (exit 2). A variable present in the environment wins even when empty, so
 * {@code PG_BACKUP_S3_BUCKET= pgbackup ...} turns off a bucket the file sets, and the scripts init
 * writes (which export the settings they were written with) keep meaning what they meant.
 */
public final class EnvSettings {
    /** Names the configuration file; {@code --config} wins over it. */
    public static final String PG_BACKUP_CONFIG = "PG_BACKUP_CONFIG";

    private final Map<String, String> env;
    private final ConfigFile file;

    private EnvSettings(Map<String, String> env, ConfigFile file) {
        this.env = Map.copyOf(withoutNulls(env));
        this.file = file;
    }

    /** The environment alone. */
    public static EnvSettings of(Map<String, String> env) {
        return new EnvSettings(env, null);
    }

    /** The environment over {@code file}. */
    static EnvSettings of(Map<String, String> env, ConfigFile file) {
        return new EnvSettings(env, file);
    }

    /** Nothing set: every setting takes its default (a config built by the builder). */
    public static EnvSettings empty() {
        return new EnvSettings(Map.of(), null);
    }

    /**
     * The environment over the configuration file named by {@code configOption} (a command's
     * {@code --config}), else by {@code PG_BACKUP_CONFIG}; none when neither is set or both are blank.
     */
    public static EnvSettings load(Map<String, String> env, Path configOption) {
        Path file = configOption;
        if (file == null) {
            String named = env.get(PG_BACKUP_CONFIG);
            file = named == null || named.isBlank() ? null : Path.of(named.strip());
        }
        return new EnvSettings(env, file == null ? null : ConfigFile.read(file));
    }

    /** The configuration file's real path, when one is read. */
    public Optional<Path> configFile() {
        return Optional.ofNullable(file).map(ConfigFile::path);
    }

    /** The value as given (the environment's, else the file's), null when neither sets it. */
    public String get(String name) {
        if (env.containsKey(name)) {
            return env.get(name);
        }
        return file == null ? null : file.values().get(name);
    }

    /**
     * The settings as one map, the environment's entries over the file's: for a reader that takes
     * a {@code Map} of variables (e.g. {@code CheckThresholds.fromEnvironment(settings.asMap())}).
     */
    public Map<String, String> asMap() {
        Map<String, String> out = new LinkedHashMap<>();
        if (file != null) {
            out.putAll(file.values());
        }
        out.putAll(env);
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Where {@code name}'s value comes from: {@code env}, {@code file:/path}, or {@code default}. */
    public String source(String name) {
        if (env.containsKey(name)) {
            return "env";
        }
        return file != null && file.values().containsKey(name) ? "file:" + file.path() : "default";
    }

    /** The value, null when unset or blank. */
    public String string(String name) {
        String raw = get(name);
        return raw == null || raw.isBlank() ? null : raw;
    }

    /** A whole number; {@code fallback} when unset or blank. */
    public int integer(String name, int fallback) {
        String raw = get(name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(raw.strip());
        } catch (NumberFormatException e) {
            throw invalid(name, name + "='" + raw + "' is not a whole number: set it to e.g. " + fallback);
        }
    }

    /** {@code true/yes/on/1} or {@code false/no/off/0}; {@code fallback} when unset or blank. */
    public boolean bool(String name, boolean fallback) {
        String raw = get(name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        return switch (raw.strip().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw invalid(name, name + "='" + printable(raw.strip()) + "' is not true or false");
        };
    }

    /**
     * A duration: whole seconds ({@code 90}), a number with a unit {@code s}, {@code m}, {@code h}
     * or {@code d} ({@code 15m}), or ISO-8601 ({@code PT15M}); {@code fallback} when unset or blank.
     */
    public Duration duration(String name, Duration fallback) {
        String raw = get(name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        String v = raw.strip().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(Locale.ROOT));
            }
            char unit = v.charAt(v.length() - 1);
            String digits = Character.isDigit(unit) ? v : v.substring(0, v.length() - 1).strip();
            long n = Long.parseLong(digits);
            return switch (unit) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> {
                    if (!Character.isDigit(unit)) {
                        throw new NumberFormatException();
                    }
                    yield Duration.ofSeconds(n);
                }
            };
        } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
            throw invalid(name, name + "='" + printable(raw) + "' is not a duration: use seconds or a number with"
                    + " s, m, h or d, e.g. " + fallback.toSeconds() + "s");
        }
    }

    /** One of {@code choices} (case-insensitive, blanks stripped); {@code fallback} when unset or blank. */
    public <T> T choice(String name, T fallback, Map<String, T> choices, String hint) {
        String raw = get(name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        T value = choices.get(raw.strip().toLowerCase(Locale.ROOT));
        if (value == null) {
            throw invalid(name, name + "='" + printable(raw) + "' " + hint);
        }
        return value;
    }

    /** An absolute path, normalized; null when unset or blank. */
    public Path absolutePath(String name) {
        String raw = get(name);
        if (raw == null || raw.isBlank()) {
            return null;
        }
        Path path = Path.of(raw);
        if (!path.isAbsolute()) {
            throw invalid(name, name + "='" + path + "' is a relative path: use an absolute path, e.g. "
                    + path.toAbsolutePath().normalize());
        }
        return path.normalize();
    }

    /** A configuration error about {@code name}; when the file set it, the message says where. */
    public PgBackupException invalid(String name, String message) {
        return new PgBackupException(ErrorCode.INVALID_CONFIG, message + where(name));
    }

    /** {@code " (set in FILE line N)"} when the file set {@code name}, else empty. */
    String where(String name) {
        if (env.containsKey(name) || file == null || file.line(name) == 0) {
            return "";
        }
        return " (set in " + file.path() + " line " + file.line(name) + ")";
    }

    /**
     * Every known setting: its value as given ({@code ****} for a secret, null when unset) and its
     * source, for {@code status}.
     */
    public List<Setting> report() {
        List<Setting> out = new ArrayList<>();
        for (String name : SettingNames.all()) {
            String raw = get(name);
            String shown = raw == null ? null : SettingNames.SECRETS.contains(name) ? "****" : raw;
            out.add(new Setting(name, shown, source(name)));
        }
        return out;
    }

    /**
     * The environment for a job or script that calls pgbackup back: this one, with
     * {@code PG_BACKUP_CONFIG} naming the file read here (or removed when none), so it reads the same file.
     */
    public Map<String, String> environmentForJobs() {
        Map<String, String> out = new LinkedHashMap<>(env);
        out.remove(PG_BACKUP_CONFIG);
        configFile().ifPresent(p -> out.put(PG_BACKUP_CONFIG, p.toString()));
        return out;
    }

    /** One setting as status shows it. {@code source}: {@code env}, {@code file:/path} or {@code default}. */
    public record Setting(String name, String value, String source) {
    }

    private static String printable(String s) {
        return s.replaceAll("\\p{Cntrl}", "?");
    }

    private static Map<String, String> withoutNulls(Map<String, String> env) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (k != null && v != null) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * The names of settings a package outside {@code config} reads (health's thresholds, notify
     * command and metrics file), registered by that package in {@code META-INF/services} so that a
     * configuration file may hold them. A service-provider seam, not something embedders implement.
     */
    public interface Names {
        List<String> names();
    }
}
