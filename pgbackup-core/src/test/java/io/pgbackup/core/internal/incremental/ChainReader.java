package io.pgbackup.core.internal.incremental;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.storage.StoredName;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Test-side reading of stored backups: each backup's data tars as data-directory paths to content
 * (small test clusters only), and a relation file rebuilt block by block through a chain, the way
 * pg_combinebackup does, so the tests can check the stored blocks against the server's own
 * backup_manifest without the restore side.
 */
public final class ChainReader {
    private ChainReader() {
    }

    /** Every regular file of the backup's data tars, by data-directory path (INCREMENTAL.* as named). */
    public static Map<String, byte[]> files(Path repo, BackupInfo backup) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (BackupManifest.BackupFile f : backup.manifest().files()) {
            StoredName name = StoredName.parse(f.name());
            String prefix;
            if (name.stem().equals("base.tar")) {
                prefix = "";
            } else if (name.stem().matches("[0-9]+\\.tar")) {
                prefix = "pg_tblspc/" + name.stem().replace(".tar", "") + "/";
            } else {
                continue;
            }
            try (InputStream raw = Files.newInputStream(repo.resolve("base").resolve(backup.id()).resolve(f.name()));
                 TarArchiveInputStream tar = new TarArchiveInputStream(name.compression().decompress(raw))) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    if (e.isFile()) {
                        files.put(prefix + e.getName(), tar.readAllBytes());
                    }
                }
            }
        }
        return files;
    }

    static String incrementalPath(String path) {
        int slash = path.lastIndexOf('/');
        return path.substring(0, slash + 1) + IncrementalFormat.PREFIX + path.substring(slash + 1);
    }

    static IncrementalFormat.Header header(byte[] content) throws IOException {
        return IncrementalFormat.readHeader(new ByteArrayInputStream(content));
    }

    /** The file as restored from {@code chain} (oldest first), or null when the newest does not hold it. */
    static byte[] reconstruct(List<Map<String, byte[]>> chain, String path) throws IOException {
        Map<String, byte[]> newest = chain.get(chain.size() - 1);
        if (newest.containsKey(path)) {
            return newest.get(path);
        }
        byte[] incremental = newest.get(incrementalPath(path));
        if (incremental == null) {
            return null;
        }
        long blocks = header(incremental).reconstructedBlocks();
        byte[] out = new byte[(int) (blocks * IncrementalFormat.BLOCK_SIZE)];
        for (int b = 0; b < blocks; b++) {
            byte[] page = block(chain, chain.size() - 1, path, b);
            System.arraycopy(page, 0, out, b * IncrementalFormat.BLOCK_SIZE, IncrementalFormat.BLOCK_SIZE);
        }
        return out;
    }

    private static byte[] block(List<Map<String, byte[]>> chain, int index, String path, int b) throws IOException {
        int size = IncrementalFormat.BLOCK_SIZE;
        if (index < 0) {
            throw new AssertionError(path + " block " + b + " is in no backup of the chain");
        }
        Map<String, byte[]> backup = chain.get(index);
        byte[] whole = backup.get(path);
        if (whole != null) {
            if ((long) (b + 1) * size > whole.length) {
                throw new AssertionError(path + " block " + b + " is beyond the whole file in backup " + index);
            }
            return Arrays.copyOfRange(whole, b * size, (b + 1) * size);
        }
        byte[] incremental = backup.get(incrementalPath(path));
        if (incremental == null) {
            throw new AssertionError(path + " block " + b + ": backup " + index + " of the chain has no such file");
        }
        IncrementalFormat.Header h = header(incremental);
        for (int i = 0; i < h.blockCount(); i++) {
            if (h.blockNumbers()[i] == b) {
                int at = (int) IncrementalFormat.headerSize(h.blockCount()) + i * size;
                return Arrays.copyOfRange(incremental, at, at + size);
            }
        }
        if (Integer.toUnsignedLong(b) >= Integer.toUnsignedLong(h.truncationBlockLength())) {
            return new byte[size];
        }
        return block(chain, index - 1, path, b);
    }

    /**
     * The files of the newest of {@code chain} (oldest first) that do not rebuild as the server sent
     * them: size and CRC32C against its backup_manifest, or (PostgreSQL 12, no backup_manifest) the
     * size in its pgbackup_files.json; also any file listed there that the tars lack, or the reverse.
     */
    public static List<String> mismatches(Path repo, List<BackupInfo> chain) throws IOException {
        List<Map<String, byte[]>> contents = new java.util.ArrayList<>();
        for (BackupInfo b : chain) {
            contents.add(files(repo, b));
        }
        BackupInfo newest = chain.get(chain.size() - 1);
        Map<String, String[]> sent = new HashMap<>();
        if (newest.manifest().file("backup_manifest").isPresent()) {
            sent.putAll(serverManifest(repo, newest));
        } else {
            String name = newest.manifest().fileList();
            try (InputStream in = StoredName.parse(name).compression().decompress(
                    Files.newInputStream(repo.resolve("base").resolve(newest.id()).resolve(name)))) {
                FileListing.read(in).forEach((p, size) -> sent.put(p, new String[] {String.valueOf(size), "", ""}));
            }
        }
        sent.keySet().removeIf(p -> !p.startsWith("base/") && !p.startsWith("global/") && !p.startsWith("pg_tblspc/"));
        java.util.TreeSet<String> tarred = new java.util.TreeSet<>();
        for (String p : contents.get(contents.size() - 1).keySet()) {
            int slash = p.lastIndexOf('/');
            String plain = p.substring(slash + 1).startsWith(IncrementalFormat.PREFIX)
                    ? p.substring(0, slash + 1) + p.substring(slash + 1 + IncrementalFormat.PREFIX.length()) : p;
            if (plain.startsWith("base/") || plain.startsWith("global/") || plain.startsWith("pg_tblspc/")) {
                tarred.add(plain);
            }
        }
        List<String> wrong = new java.util.ArrayList<>();
        tarred.stream().filter(p -> !sent.containsKey(p)).forEach(p -> wrong.add(p + " (in the tars only)"));
        for (Map.Entry<String, String[]> e : new java.util.TreeMap<>(sent).entrySet()) {
            byte[] rebuilt = reconstruct(contents, e.getKey());
            String[] entry = e.getValue();
            if (rebuilt == null || rebuilt.length != Long.parseLong(entry[0])
                    || entry[1].equals("CRC32C") && !crc32c(rebuilt).equalsIgnoreCase(entry[2])) {
                wrong.add(e.getKey());
            }
        }
        return wrong;
    }

    /** backup_manifest's files: path to {size, algorithm, checksum}. */
    static Map<String, String[]> serverManifest(Path repo, BackupInfo backup) throws IOException {
        JsonNode root = new ObjectMapper().readTree(repo.resolve("base").resolve(backup.id()).resolve("backup_manifest").toFile());
        Map<String, String[]> files = new HashMap<>();
        for (JsonNode f : root.get("Files")) {
            files.put(f.get("Path").asText(), new String[] {f.get("Size").asText(), f.path("Checksum-Algorithm").asText(),
                    f.path("Checksum").asText()});
        }
        return files;
    }

    /** CRC32C as backup_manifest writes it (little-endian bytes as hex). */
    static String crc32c(byte[] content) {
        CRC32C crc = new CRC32C();
        crc.update(content);
        byte[] le = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue()).array();
        return java.util.HexFormat.of().formatHex(le);
    }
}
