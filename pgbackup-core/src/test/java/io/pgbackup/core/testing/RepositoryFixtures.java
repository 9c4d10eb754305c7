package io.pgbackup.core.testing;

import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.internal.backup.ManifestCodec;
import io.pgbackup.core.internal.storage.Repository;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.stream.Stream;

/** Repositories written by hand, for tests of what reads them (retention, cleanup), without a cluster. */
public final class RepositoryFixtures {
    public static final long SEGMENT_SIZE = 16L * 1024 * 1024;

    private RepositoryFixtures() {
    }

    /**
     * A complete backup {@code id} that ended at {@code end}, covering WAL {@code startWal} to
     * {@code stopWal} on {@code timeline}: a {@code base.tar.gz} of {@code bytes} zero bytes and its manifest.
     */
    public static String backup(Repository repository, String id, OffsetDateTime end, int timeline, String startWal,
                                String stopWal, int bytes) throws IOException {
        Path dir = Files.createDirectories(repository.baseDir().resolve(id));
        Files.write(dir.resolve("base.tar.gz"), new byte[bytes]);
        BackupManifest m = BackupManifest.builder()
                .formatVersion(1)
                .id(id)
                .label("pgbackup " + id)
                .startTime(end.minusMinutes(1))
                .endTime(end)
                .durationMillis(60_000)
                .pgbackupVersion("test")
                .postgresVersion("18.1")
                .postgresVersionNum(180001)
                .systemIdentifier("7000000000000000001")
                .timeline(timeline)
                .startLsn("0/0")
                .stopLsn("0/0")
                .startWalFile(startWal)
                .stopWalFile(stopWal)
                .walSegmentSize(SEGMENT_SIZE)
                .compression("gzip")
                .databaseSizeBytes(bytes)
                .checkpoint("fast")
                .files(List.of(new BackupManifest.BackupFile("base.tar.gz", bytes, "00")))
                .build();
        Files.write(dir.resolve(Repository.MANIFEST_FILE), new ManifestCodec().toJson(m));
        return id;
    }

    /**
     * Every path under the repository with its size and modification time, so a rewrite shows too;
     * equal snapshots mean nothing was written. The root and the lock file are left out: the
     * root's mtime changes when the lock file is first created.
     */
    public static List<String> snapshot(Repository repository) throws IOException {
        Path root = repository.root();
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(p -> !p.equals(root) && !p.equals(repository.root().resolve(".pgbackup.lock"))).map(p -> {
                try {
                    return root.relativize(p) + " " + Files.size(p) + " " + Files.getLastModifiedTime(p).toMillis();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sorted().toList();
        }
    }

    /** A stored file's name, size and SHA-256, as pgbackup_manifest.json lists it. */
    public static io.pgbackup.core.backup.BackupManifest.BackupFile describe(Path file) throws IOException {
        java.security.MessageDigest sha = io.pgbackup.core.internal.storage.StoredFileCheck.sha256();
        byte[] content = Files.readAllBytes(file);
        sha.update(content);
        return new io.pgbackup.core.backup.BackupManifest.BackupFile(file.getFileName().toString(), content.length,
                io.pgbackup.core.internal.storage.StoredFileCheck.hex(sha));
    }

    /** An uncompressed tar holding {@code files} (name to content, in the map's order), mode 0600. */
    public static byte[] tar(java.util.Map<String, byte[]> files) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (org.apache.commons.compress.archivers.tar.TarArchiveOutputStream tar =
                     new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(bytes)) {
            for (java.util.Map.Entry<String, byte[]> f : files.entrySet()) {
                org.apache.commons.compress.archivers.tar.TarArchiveEntry entry =
                        new org.apache.commons.compress.archivers.tar.TarArchiveEntry(f.getKey());
                entry.setSize(f.getValue().length);
                entry.setMode(0600);
                tar.putArchiveEntry(entry);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }
}
