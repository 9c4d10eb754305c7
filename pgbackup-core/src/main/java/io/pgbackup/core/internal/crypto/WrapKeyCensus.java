package io.pgbackup.core.internal.crypto;

import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.status.StatusReport;
import io.pgbackup.core.storage.Storage;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** For {@code status}: which wrap keys the repository's data keysets are wrapped with, and what that means. */
public final class WrapKeyCensus {
    private WrapKeyCensus() {
    }

    public static StatusReport.EncryptionStatus of(Repository repository) {
        Optional<WrapKey> key = Rotator.configuredKey(repository);
        Storage raw = repository.rawStorage();
        Map<String, Long> byKey = new HashMap<>();
        long records = 0;
        long without = 0;
        for (String record : KeyRotation.recordKeys(raw)) {
            List<String> ids;
            try {
                ids = KeysetRecord.parse(raw.read(record), record).wrapKeyIds();
            } catch (IOException e) {
                ids = List.of("unreadable");
            }
            records++;
            ids.stream().distinct().forEach(id -> byKey.merge(id, 1L, Long::sum));
            if (key.isEmpty() || !ids.contains(key.get().id())) {
                without++;
            }
        }
        String id = key.map(WrapKey::id).orElse(null);
        return new StatusReport.EncryptionStatus(id, key.map(k -> !k.canUnwrap()).orElse(false), records, byKey,
                id != null && byKey.containsKey(id), without);
    }

    /** The status line for records the configured key does not open; empty when there are none. */
    public static Optional<String> warning(StatusReport.EncryptionStatus e) {
        if (e.recordsWithoutConfiguredKey() == 0) {
            return Optional.empty();
        }
        Map<String, Long> others = new HashMap<>(e.recordsByWrapKey());
        if (e.configuredKeyId() != null) {
            others.remove(e.configuredKeyId());
        }
        String keys = String.join(", ", new java.util.TreeSet<>(others.keySet()));
        return Optional.of(e.configuredKeyId() == null
                ? e.recordsWithoutConfiguredKey() + " data keyset(s) in the repository are wrapped under key " + keys
                + " and no key is configured: restore needs PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND) set to it"
                : e.recordsWithoutConfiguredKey() + " data keyset(s) are not wrapped under the configured key "
                + e.configuredKeyId() + " (key " + keys + "): configure that key, or finish 'pgbackup key rotate' with it");
    }
}
