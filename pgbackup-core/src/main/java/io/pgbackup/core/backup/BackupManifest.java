package io.pgbackup.core.backup;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;

/**
 * {@code pgbackup_manifest.json}: what a backup is and how to check it. Written last, so a backup
 * directory without one is incomplete. Holds no secrets: no password, no connection string.
 *
 * @param formatVersion      version of this file's layout, for readers of older backups
 * @param startLsn           WAL location where the backup starts (replay begins here)
 * @param stopLsn            WAL location where the backup is consistent (restore targets must be later)
 * @param startWalFile       the WAL segment holding {@code startLsn}: the first one replay needs
 * @param stopWalFile        the WAL segment holding {@code stopLsn}
 * @param files              each stored file with its size and SHA-256
 * @param compression        how the tar files are compressed ({@code gzip}, {@code zstd}, ...)
 * @param tablespaces        tablespaces outside the data directory, each stored as {@code <oid>.tar} (plus the
 *                           compression suffix); empty in manifests written before pgbackup backed them up
 * @param fromStandby        taken from a streaming standby (in recovery); {@code timeline} is then the
 *                           primary's timeline the standby was replaying. False in older manifests
 */
public record BackupManifest(int formatVersion, String id, String label, OffsetDateTime startTime,
                             OffsetDateTime endTime, long durationMillis, String pgbackupVersion,
                             String postgresVersion, int postgresVersionNum, String systemIdentifier,
                             int timeline, String startLsn, String stopLsn, String startWalFile,
                             String stopWalFile, long walSegmentSize, String compression,
                             long databaseSizeBytes, String checkpoint, List<BackupFile> files,
                             List<Tablespace> tablespaces, boolean fromStandby) {
    public static final int FORMAT_VERSION = 1;

    public BackupManifest {
        files = List.copyOf(files);
        tablespaces = tablespaces == null ? List.of() : List.copyOf(tablespaces);
    }

    /** A manifest of a backup taken from a primary. */
    public BackupManifest(int formatVersion, String id, String label, OffsetDateTime startTime,
                          OffsetDateTime endTime, long durationMillis, String pgbackupVersion,
                          String postgresVersion, int postgresVersionNum, String systemIdentifier,
                          int timeline, String startLsn, String stopLsn, String startWalFile,
                          String stopWalFile, long walSegmentSize, String compression,
                          long databaseSizeBytes, String checkpoint, List<BackupFile> files,
                          List<Tablespace> tablespaces) {
        this(formatVersion, id, label, startTime, endTime, durationMillis, pgbackupVersion, postgresVersion,
                postgresVersionNum, systemIdentifier, timeline, startLsn, stopLsn, startWalFile, stopWalFile,
                walSegmentSize, compression, databaseSizeBytes, checkpoint, files, tablespaces, false);
    }

    /** A manifest of a cluster without tablespaces outside its data directory. */
    public BackupManifest(int formatVersion, String id, String label, OffsetDateTime startTime,
                          OffsetDateTime endTime, long durationMillis, String pgbackupVersion,
                          String postgresVersion, int postgresVersionNum, String systemIdentifier,
                          int timeline, String startLsn, String stopLsn, String startWalFile,
                          String stopWalFile, long walSegmentSize, String compression,
                          long databaseSizeBytes, String checkpoint, List<BackupFile> files) {
        this(formatVersion, id, label, startTime, endTime, durationMillis, pgbackupVersion, postgresVersion,
                postgresVersionNum, systemIdentifier, timeline, startLsn, stopLsn, startWalFile, stopWalFile,
                walSegmentSize, compression, databaseSizeBytes, checkpoint, files, List.of());
    }

    public Duration duration() {
        return Duration.ofMillis(durationMillis);
    }

    /** Bytes stored for this backup (all files listed). */
    public long storedBytes() {
        return files.stream().mapToLong(BackupFile::size).sum();
    }

    public Optional<BackupFile> file(String name) {
        return files.stream().filter(f -> f.name().equals(name)).findFirst();
    }

    /**
     * A tablespace: its OID (the {@code pg_tblspc} link's name), where it was on the server, and the
     * stored archive of its directory ({@code <oid>.tar.gz}, ...; null until the backup stored it).
     */
    public record Tablespace(long oid, String location, String file) {
        public Tablespace(long oid, String location) {
            this(oid, location, null);
        }

        /** The stored archive: as recorded, else the one named after the OID. */
        public String fileIn(BackupManifest manifest) {
            if (file != null) {
                return file;
            }
            String stem = oid + ".tar";
            return manifest.files().stream().map(BackupFile::name)
                    .filter(n -> n.equals(stem) || n.startsWith(stem + ".")).findFirst().orElse(stem);
        }
    }

    /** One stored file: its name inside the backup directory, size in bytes and SHA-256 (hex). */
    public record BackupFile(String name, long size, String sha256) {
    }
}
