package io.pgbackup.core.backup;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.storage.RepositoryJson;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.file.Path;

/** Reads and writes {@code pgbackup_manifest.json}. */
public final class ManifestCodec {
    private final ObjectMapper mapper = RepositoryJson.newMapper();

    public byte[] toJson(BackupManifest manifest) {
        try {
            return mapper.writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize manifest", e);
        }
    }

    public BackupManifest read(Path file) {
        try {
            return mapper.readValue(file.toFile(), BackupManifest.class);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, file + " is not a readable pgbackup manifest: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        }
    }

    ObjectMapper mapper() {
        return mapper;
    }
}
