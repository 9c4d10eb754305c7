package io.pgbackup.core.internal.postgres.replication;

import java.util.Objects;
import java.util.Optional;

/**
 * What to ask the server for. {@code serverCompression} is PostgreSQL's
 * {@code METHOD[:DETAIL]} (e.g. {@code zstd:level=3,workers=2}); the server compresses each
 * archive (PostgreSQL 15 and newer only) and the archive names get the method's suffix.
 * {@code parentManifest}, the parent's {@code backup_manifest} as the server wrote it, asks
 * PostgreSQL 17+ for an incremental backup from its WAL summaries ({@code UPLOAD_MANIFEST}, then
 * {@code BASE_BACKUP (INCREMENTAL)}): the server then sends {@code INCREMENTAL.*} files itself.
 */
public record BaseBackupRequest(String label, boolean fastCheckpoint, Optional<String> serverCompression,
                                Optional<byte[]> parentManifest) {
    public BaseBackupRequest(String label, boolean fastCheckpoint, Optional<String> serverCompression) {
        this(label, fastCheckpoint, serverCompression, Optional.empty());
    }

    public BaseBackupRequest {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(parentManifest, "parentManifest");
        Objects.requireNonNull(serverCompression, "serverCompression");
        if (label.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("backup label contains a NUL character");
        }
        serverCompression.ifPresent(c -> {
            if (c.isBlank() || c.startsWith(":") || c.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("server compression must be METHOD[:DETAIL], got '" + c + "'");
            }
        });
    }

    String compressionMethod() {
        return serverCompression.map(c -> c.split(":", 2)[0]).orElseThrow();
    }

    Optional<String> compressionDetail() {
        return serverCompression.filter(c -> c.contains(":")).map(c -> c.split(":", 2)[1]).filter(d -> !d.isEmpty());
    }
}
