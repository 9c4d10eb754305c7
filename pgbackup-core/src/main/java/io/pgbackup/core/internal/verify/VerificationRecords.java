package io.pgbackup.core.internal.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.internal.storage.RepositoryJson;

import java.io.IOException;
import java.util.Optional;

/** Reads and writes {@link VerificationRecord}s, each a complete, durable object beside its backup's manifest. */
public final class VerificationRecords {
    private final ObjectMapper mapper = RepositoryJson.newMapper();
    private final Repository repository;

    public VerificationRecords(Repository repository) {
        this.repository = repository;
    }

    /** The record of backup {@code id}, if there is a readable one; an unreadable one counts as none. */
    public Optional<VerificationRecord> read(String id) {
        String key = Repository.backupFileKey(id, VerificationRecord.FILE_NAME);
        try {
            if (repository.storage().stat(key).isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(mapper.readValue(repository.storage().read(key), VerificationRecord.class));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void write(String id, VerificationRecord record) throws IOException {
        repository.put(Repository.backupFileKey(id, VerificationRecord.FILE_NAME), mapper.writeValueAsBytes(record));
    }
}
