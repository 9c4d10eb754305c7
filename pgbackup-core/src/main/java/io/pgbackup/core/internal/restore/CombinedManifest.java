package io.pgbackup.core.internal.restore;

import io.pgbackup.core.internal.concurrent.Pools;
import io.pgbackup.core.internal.storage.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The {@code backup_manifest} of a data directory reassembled from a chain, written as
 * pg_combinebackup writes one: every file with its size, modification time and CRC32C computed
 * over the reassembled bytes (never taken from a backup: a page may differ in hint bits), the WAL
 * range of the newest backup, and the SHA-256 of the manifest itself. PostgreSQL's
 * {@code pg_verifybackup} then accepts the directory like any base backup.
 */
final class CombinedManifest {
    static final String NAME = "backup_manifest";
    /** What pg_verifybackup never compares: the manifest, WAL, and what recovery writes. */
    private static final List<String> IGNORED = List.of(NAME, "pg_wal", "postgresql.auto.conf", "recovery.signal", "standby.signal");
    private static final DateTimeFormatter MODIFIED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'GMT'").withZone(ZoneOffset.UTC);

    /** One file of the directory: its manifest path, where it is, its size and time. */
    record FileEntry(String path, Path file, long size, java.time.Instant modified) {
    }

    /** The WAL a restore of the directory replays to consistency. */
    record WalRange(int timeline, String startLsn, String endLsn) {
    }

    private CombinedManifest() {
    }

    /**
     * Every regular file below {@code dataDir} but those pg_verifybackup ignores, sorted by path;
     * {@code pg_tblspc/<oid>} links are followed (the tablespaces' files are listed there), no other link.
     */
    static List<FileEntry> files(Path dataDir) throws IOException {
        List<FileEntry> out = new ArrayList<>();
        walk(dataDir, "", out, true);
        out.sort(java.util.Comparator.comparing(FileEntry::path));
        return out;
    }

    private static void walk(Path dir, String prefix, List<FileEntry> out, boolean top) throws IOException {
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.sorted().toList();
        }
        for (Path child : children) {
            String name = child.getFileName().toString();
            if (top && IGNORED.contains(name)) {
                continue;
            }
            String path = prefix + name;
            BasicFileAttributes a = Files.readAttributes(child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink() && prefix.equals("pg_tblspc/") && Files.isDirectory(child)) {
                walk(child.toRealPath(), path + "/", out, false);
            } else if (a.isDirectory()) {
                walk(child, path + "/", out, false);
            } else if (a.isRegularFile()) {
                out.add(new FileEntry(path, child, a.size(), a.lastModifiedTime().toInstant()));
            }
        }
    }

    /**
     * Writes {@code backup_manifest} into {@code dataDir} (temporary name, fsync, rename), the
     * files' checksums computed on two threads. {@code systemIdentifier}: written (manifest version
     * 2, PostgreSQL 17+) when not null.
     */
    static void write(Path dataDir, List<WalRange> wal, String systemIdentifier) throws IOException {
        write(dataDir, wal, systemIdentifier, Map.of());
    }

    /**
     * As above; {@code known}: manifest path to CRC32C of files the restore already checksummed
     * and left unchanged (a delta's kept and patched relation segments), not read a second time.
     */
    static void write(Path dataDir, List<WalRange> wal, String systemIdentifier, Map<String, String> known) throws IOException {
        List<FileEntry> files = files(dataDir);
        List<String> checksums = crc32c(files, known);
        StringBuilder text = new StringBuilder(files.size() * 160 + 512);
        text.append("{ \"PostgreSQL-Backup-Manifest-Version\": ").append(systemIdentifier == null ? 1 : 2).append(",\n");
        if (systemIdentifier != null) {
            text.append("\"System-Identifier\": ").append(Long.parseUnsignedLong(systemIdentifier)).append(",\n");
        }
        text.append("\"Files\": [");
        for (int i = 0; i < files.size(); i++) {
            FileEntry f = files.get(i);
            text.append(i == 0 ? "\n" : ",\n").append("{ ").append(pathField(f.path()))
                    .append(", \"Size\": ").append(f.size())
                    .append(", \"Last-Modified\": \"").append(MODIFIED.format(f.modified())).append('"')
                    .append(", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"").append(checksums.get(i)).append("\" }");
        }
        text.append("\n],\n\"WAL-Ranges\": [");
        for (int i = 0; i < wal.size(); i++) {
            WalRange r = wal.get(i);
            text.append(i == 0 ? "\n" : ",\n").append("{ \"Timeline\": ").append(r.timeline())
                    .append(", \"Start-LSN\": \"").append(r.startLsn()).append("\", \"End-LSN\": \"").append(r.endLsn()).append("\" }");
        }
        text.append("\n],\n");
        MessageDigest sha = io.pgbackup.core.internal.storage.StoredFileCheck.sha256();
        byte[] covered = text.toString().getBytes(StandardCharsets.UTF_8);
        sha.update(covered);
        byte[] tail = ("\"Manifest-Checksum\": \"" + HexFormat.of().formatHex(sha.digest()) + "\"}\n").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[covered.length + tail.length];
        System.arraycopy(covered, 0, all, 0, covered.length);
        System.arraycopy(tail, 0, all, covered.length, tail.length);
        AtomicFiles.write(dataDir.resolve(NAME), all, PosixFilePermissions.fromString("rw-------"));
    }

    /** A plain path when it is valid UTF-8 that needs no escaping beyond JSON's, else hex, as PostgreSQL does. */
    private static String pathField(String path) {
        byte[] raw = path.getBytes(StandardCharsets.UTF_8);
        boolean plain;
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(raw));
            plain = path.chars().noneMatch(c -> c < 0x20 || c == '"' || c == '\\' || c == 0x7f);
        } catch (CharacterCodingException e) {
            plain = false;
        }
        return plain ? "\"Path\": \"" + path + "\"" : "\"Encoded-Path\": \"" + HexFormat.of().formatHex(raw) + "\"";
    }

    /** Each file's CRC32C as PostgreSQL writes it: the four bytes as they lie in memory (little-endian), in hex. */
    static List<String> crc32c(List<FileEntry> files, Map<String, String> known) throws IOException {
        return Pools.runAll("pgbackup-manifest", 2, files.stream().map(f -> (Callable<String>) () -> {
            String checksum = known.get(f.path());
            return checksum != null ? checksum : crc32c(f.file());
        }).toList());
    }

    static String crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buffer = new byte[128 * 1024];
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                crc.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array());
    }
}
