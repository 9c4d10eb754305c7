package io.pgbackup.core.internal.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The password file libpq reads ({@code PGPASSFILE}, else {@code ~/.pgpass}), read the same way for
 * pgbackup's own replication connections: {@code host:port:database:user:password} lines, {@code *}
 * matching anything, {@code \:} and {@code \\} escaped, the first match wins, and a file that
 * others may read is ignored, as libpq ignores it.
 */
public final class PgPassFile {
    private final Path file;

    PgPassFile(Path file) {
        this.file = file;
    }

    /** The file libpq would use in this environment. */
    public static PgPassFile of(Map<String, String> environment) {
        String explicit = environment.get("PGPASSFILE");
        if (explicit != null && !explicit.isBlank()) {
            return new PgPassFile(Path.of(explicit));
        }
        return new PgPassFile(Path.of(System.getProperty("user.home"), ".pgpass"));
    }

    /**
     * The password for a connection; a socket directory matches {@code localhost}, as in libpq, and
     * a physical replication connection is database {@code replication}.
     */
    public Optional<String> lookup(String host, int port, String database, String user) {
        String matchHost = host.startsWith("/") ? "localhost" : host;
        try {
            if (!Files.isRegularFile(file) || othersMayRead(file)) {
                return Optional.empty();
            }
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                List<String> f = fields(line);
                if (f.size() == 5 && matches(f.get(0), matchHost) && matches(f.get(1), String.valueOf(port))
                        && matches(f.get(2), database) && matches(f.get(3), user)) {
                    return Optional.of(f.get(4));
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static boolean othersMayRead(Path file) throws IOException {
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
        return p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ);
    }

    private static boolean matches(String pattern, String value) {
        return pattern.equals("*") || pattern.equals(value);
    }

    private static List<String> fields(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                current.append(line.charAt(++i));
            } else if (c == ':' && out.size() < 4) {
                out.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        out.add(current.toString());
        return out;
    }
}
