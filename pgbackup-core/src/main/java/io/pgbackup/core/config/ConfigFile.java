package io.pgbackup.core.config;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A configuration file ({@code --config FILE}, {@code PG_BACKUP_CONFIG}): the environment's keys,
 * one {@code KEY=value} a line, in the subset of systemd's {@code EnvironmentFile=} syntax that
 * both read the same way. Accepted: blank lines; comment lines starting with {@code #} or
 * {@code ;}; {@code KEY=value} with optional blanks around the key and the {@code =}; a value bare
 * (surrounding blanks dropped), in single quotes (verbatim) or in double quotes (escapes
 * {@code \" \\ \$ \`} only). Refused, with the line number: anything else, including
 * {@code export}, a line continuation, a quote left open, text after a closing quote, a bare
 * value with a backslash or a {@code " #"} (systemd keeps that as part of the value), a key set
 * twice, a key that is not a pgbackup setting, and {@code PG_PASSWORD} in a file that group or
 * others may read (as libpq does for {@code .pgpass}).
 *
 * <p>Messages never quote a line: it may hold the password.
 */
final class ConfigFile {
    private static final Pattern ASSIGNMENT = Pattern.compile("[ \\t]*([A-Za-z_][A-Za-z0-9_]*)[ \\t]*=[ \\t]*(.*?)[ \\t\\r]*");

    private final Path path;
    private final Map<String, String> values;
    private final Map<String, Integer> lines;

    private ConfigFile(Path path, Map<String, String> values, Map<String, Integer> lines) {
        this.path = path;
        this.values = Collections.unmodifiableMap(values);
        this.lines = Collections.unmodifiableMap(lines);
    }

    /** Reads and checks {@code file}; its real path (symbolic links resolved) is what scripts and jobs record. */
    public static ConfigFile read(Path file) {
        Path real;
        String text;
        try {
            real = file.toRealPath();
            if (real.toString().chars().anyMatch(Character::isISOControl)) {
                // The path goes into scripts, crontab lines and units.
                throw invalid("configuration file " + file + " has a control character in its path: use a plain path");
            }
            if (!Files.isRegularFile(real)) {
                throw invalid("configuration file " + file + " is not a regular file: give the file of KEY=value lines");
            }
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(real))).toString();
        } catch (NoSuchFileException e) {
            throw invalid("configuration file " + file + " does not exist: check --config / " + EnvSettings.PG_BACKUP_CONFIG);
        } catch (CharacterCodingException e) {
            throw invalid("configuration file " + file + " is not UTF-8 text");
        } catch (IOException e) {
            throw invalid("configuration file " + file + " cannot be read (" + e.getMessage() + "): check its permissions");
        }
        ConfigFile parsed = parse(real, text);
        parsed.checkSecretsArePrivate();
        return parsed;
    }

    /** Parses {@code text} as the content of {@code path} (named in messages), without touching the file system. */
    public static ConfigFile parse(Path path, String text) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Integer> lines = new LinkedHashMap<>();
        String[] all = text.split("\n", -1);
        for (int i = 0; i < all.length; i++) {
            int n = i + 1;
            String line = all[i];
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";")) {
                continue;
            }
            Matcher m = ASSIGNMENT.matcher(line);
            if (!m.matches()) {
                String hint = trimmed.startsWith("export ") || trimmed.startsWith("export\t")
                        ? ": drop 'export' (write KEY=value)" : ": write one KEY=value a line, e.g. PG_PORT=5432";
                throw invalid(path + " line " + n + " is not a KEY=value line" + hint);
            }
            String key = m.group(1);
            checkKey(path, n, key);
            if (lines.containsKey(key)) {
                throw invalid(path + " line " + n + ": " + key + " is already set on line " + lines.get(key) + ": keep one of them");
            }
            values.put(key, value(path, n, key, m.group(2)));
            lines.put(key, n);
        }
        return new ConfigFile(path, values, lines);
    }

    private static void checkKey(Path path, int n, String key) {
        if (SettingNames.isKnown(key)) {
            return;
        }
        String where = path + " line " + n + ": ";
        if (key.equals(EnvSettings.PG_BACKUP_CONFIG)) {
            throw invalid(where + key + " cannot be set in a configuration file: one file per command");
        }
        String suggestion = SettingNames.suggestion(key);
        if (key.equals("PGPASSWORD")) {
            suggestion = PgBackupConfig.PG_PASSWORD;
        }
        if (suggestion != null) {
            throw invalid(where + key + " is not a pgbackup setting: did you mean " + suggestion + "?");
        }
        throw invalid(where + key + " is not a pgbackup setting: the file holds only pgbackup's settings"
                + " (see 'Configuration' in the README); set other variables in the environment");
    }

    private static String value(Path path, int n, String key, String raw) {
        String where = path + " line " + n + ": the value of " + key;
        if (raw.endsWith("\\")) {
            throw invalid(where + " continues on the next line: put it on one line");
        }
        if (raw.startsWith("'")) {
            int close = raw.indexOf('\'', 1);
            if (close < 0) {
                throw invalid(where + " has no closing single quote: end it on the same line");
            }
            if (close != raw.length() - 1) {
                throw invalid(where + " has text after its closing quote: quote the whole value");
            }
            return raw.substring(1, close);
        }
        if (raw.startsWith("\"")) {
            StringBuilder out = new StringBuilder();
            for (int i = 1; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (c == '\\') {
                    char next = i + 1 < raw.length() ? raw.charAt(i + 1) : 0;
                    if ("\"\\$`".indexOf(next) < 0 || next == 0) {
                        throw invalid(where + " has a backslash that systemd would read differently: inside double"
                                + " quotes use only \\\" \\\\ \\$ \\`, or use single quotes");
                    }
                    out.append(next);
                    i++;
                } else if (c == '"') {
                    if (i != raw.length() - 1) {
                        throw invalid(where + " has text after its closing quote: quote the whole value");
                    }
                    return out.toString();
                } else {
                    out.append(c);
                }
            }
            throw invalid(where + " has no closing double quote: end it on the same line");
        }
        if (raw.indexOf('\\') >= 0) {
            throw invalid(where + " has a backslash: put the value in single quotes");
        }
        if (raw.contains(" #") || raw.contains("\t#")) {
            throw invalid(where + " has a '#' after a blank, which systemd keeps as part of the value:"
                    + " put the comment on its own line (or quote the value)");
        }
        return raw;
    }

    /** As libpq refuses a {@code .pgpass} that group or others may read. */
    private void checkSecretsArePrivate() {
        for (String secret : SettingNames.SECRETS) {
            if (!values.containsKey(secret)) {
                continue;
            }
            Set<PosixFilePermission> perms;
            try {
                perms = Files.getPosixFilePermissions(path);
            } catch (UnsupportedOperationException | IOException e) {
                return;
            }
            Set<PosixFilePermission> open = Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                    PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                    PosixFilePermission.OTHERS_EXECUTE);
            if (perms.stream().anyMatch(open::contains)) {
                throw invalid(path + " holds " + secret + " but group or others may read it (" + PosixFilePermissions.toString(perms)
                        + "): chmod 600 " + path + ", or keep the password in ~/.pgpass");
            }
        }
    }

    /** The file's real path. */
    public Path path() {
        return path;
    }

    /** The settings, in file order. */
    public Map<String, String> values() {
        return values;
    }

    /** The line {@code key} is set on, 0 when it is not set here. */
    public int line(String key) {
        return lines.getOrDefault(key, 0);
    }

    private static PgBackupException invalid(String message) {
        return new PgBackupException(ErrorCode.INVALID_CONFIG, message);
    }
}
