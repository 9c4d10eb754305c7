package io.pgbackup.core.internal.postgres;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * The one place that spells values for PostgreSQL's configuration files and for the commands
 * PostgreSQL runs. Two layers, each undone by its reader in turn:
 * <ol>
 *   <li>a command ({@code archive_command}, {@code restore_command}, ...) is run by
 *       {@code /bin/sh -c} after PostgreSQL replaced {@code %p}, {@code %f} and {@code %%}:
 *       {@link #commandWord} quotes a program path for both;</li>
 *   <li>the configuration parser reads a quoted string with backslash escapes ({@code \\},
 *       {@code \n}, octal) and {@code ''} for a quote: {@link #literal} writes any value so that
 *       the parser gives back exactly that value. Doubling quotes alone is not enough: the parser
 *       would eat the backslashes the shell layer put in.</li>
 * </ol>
 */
public final class PgConfText {
    /** Paths made only of these stay as they are in a command (the spec's plain form). */
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./+,:@=-]+");

    private PgConfText() {
    }

    /**
     * {@code value} as a postgresql.conf / postgresql.auto.conf string literal: backslash and quote
     * escaped as the parser reads them (as ALTER SYSTEM writes them), control characters as octal
     * escapes, since a raw newline would end the line.
     */
    public static String literal(String value) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('\'');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (c == '\'') {
                out.append("''");
            } else if (c < 0x20 || c == 0x7f) {
                out.append('\\').append(String.format(java.util.Locale.ROOT, "%03o", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('\'').toString();
    }

    /** One {@code name = 'value'} line, newline included. */
    public static String line(String name, String value) {
        return name + " = " + literal(value) + "\n";
    }

    /** Settings as lines, in the map's order. */
    public static String lines(Map<String, String> settings) {
        StringBuilder out = new StringBuilder();
        settings.forEach((k, v) -> out.append(line(k, v)));
        return out.toString();
    }

    /** {@code value} as one single-quoted POSIX shell word. */
    public static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    /**
     * A program path as the first word of a command PostgreSQL runs: quoted for {@code /bin/sh}
     * (double quotes with {@code \ " $ `} escaped; plain paths stay as they are), then every
     * {@code %} doubled, as PostgreSQL replaces {@code %p}, {@code %f} and {@code %%} before the
     * shell sees it. A newline cannot be in it: the caller refuses such a path first.
     */
    public static String commandWord(String path) {
        if (path.chars().anyMatch(c -> c == '\n' || c == '\r')) {
            throw new IllegalArgumentException("a command word cannot hold a newline: " + path.replace("\n", "\\n"));
        }
        String word = SHELL_SAFE.matcher(path).matches() ? path
                : "\"" + path.replaceAll("([\"$`\\\\])", "\\\\$1") + "\"";
        return word.replace("%", "%%");
    }
}
