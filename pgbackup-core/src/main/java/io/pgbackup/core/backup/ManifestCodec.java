package io.pgbackup.core.backup;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.nio.file.Path;

/** Reads and writes {@code pgbackup_manifest.json}. */
public final class ManifestCodec {
    private final ObjectMapper mapper = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            // Newer pgbackup versions may add fields; older readers keep working.
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

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
