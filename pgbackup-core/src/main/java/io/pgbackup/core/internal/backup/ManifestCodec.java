package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupManifest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.RepositoryJson;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;

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

    /** Parses a manifest; {@code location} names it in the error. */
    public BackupManifest read(byte[] json, String location) {
        try {
            return mapper.readValue(json, BackupManifest.class);
        } catch (IOException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, location + " is not a readable pgbackup manifest: "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse(""), e);
        }
    }

    ObjectMapper mapper() {
        return mapper;
    }
}
