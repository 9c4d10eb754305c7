package io.pgbackup.core.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.storage.RepositoryJson;
import io.pgbackup.core.storage.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads and writes {@link VerificationRecord}s; written atomically (temporary file, fsync, rename). */
public final class VerificationRecords {
    private final ObjectMapper mapper = RepositoryJson.newMapper();

    /** The record in {@code backupDir}, if there is a readable one; an unreadable one counts as none. */
    public Optional<VerificationRecord> read(Path backupDir) {
        Path file = backupDir.resolve(VerificationRecord.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(mapper.readValue(file.toFile(), VerificationRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void write(Path backupDir, VerificationRecord record) throws IOException {
        AtomicFiles.write(backupDir.resolve(VerificationRecord.FILE_NAME), mapper.writeValueAsBytes(record));
    }
}
