package io.pgbackup.core.backup;

import com.fasterxml.jackson.annotation.JsonInclude;

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
 * @param type               {@code full}, {@code diff} or {@code incr}; {@code full} in older manifests
 * @param parent             the backup a diff or incr holds the changes since (null for a full)
 * @param chain              the backups a restore needs before this one, from the full to {@code parent}
 * @param parentStartLsn     the parent's start LSN: pages changed at or after it are stored (null for a full)
 * @param dataChecksums      whether the cluster had data checksums (null in older manifests)
 * @param incrementalMethod  {@code page-lsn} or {@code summaries} (PostgreSQL 17's WAL summaries); null for a full
 * @param fileList           the stored {@code pgbackup_files.json} (every file's final size), or null
 */
public record BackupManifest(int formatVersion, String id, String label, OffsetDateTime startTime,
                             OffsetDateTime endTime, long durationMillis, String pgbackupVersion,
                             String postgresVersion, int postgresVersionNum, String systemIdentifier,
                             int timeline, String startLsn, String stopLsn, String startWalFile,
                             String stopWalFile, long walSegmentSize, String compression,
                             long databaseSizeBytes, String checkpoint, List<BackupFile> files,
                             List<Tablespace> tablespaces, boolean fromStandby, String type,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String parent, List<String> chain,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String parentStartLsn,
                             @JsonInclude(JsonInclude.Include.NON_NULL) Boolean dataChecksums,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String incrementalMethod,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String fileList) {
    public static final int FORMAT_VERSION = 1;
    public static final String FULL = "full";
    public static final String DIFF = "diff";
    public static final String INCR = "incr";

    @com.fasterxml.jackson.annotation.JsonCreator
    public BackupManifest {
        files = List.copyOf(files);
        tablespaces = tablespaces == null ? List.of() : List.copyOf(tablespaces);
        type = type == null ? FULL : type;
        chain = chain == null ? List.of() : List.copyOf(chain);
    }

    /** A full backup's manifest, as written before incremental backups. */
    public BackupManifest(int formatVersion, String id, String label, OffsetDateTime startTime,
                          OffsetDateTime endTime, long durationMillis, String pgbackupVersion,
                          String postgresVersion, int postgresVersionNum, String systemIdentifier,
                          int timeline, String startLsn, String stopLsn, String startWalFile,
                          String stopWalFile, long walSegmentSize, String compression,
                          long databaseSizeBytes, String checkpoint, List<BackupFile> files,
                          List<Tablespace> tablespaces, boolean fromStandby) {
        this(formatVersion, id, label, startTime, endTime, durationMillis, pgbackupVersion, postgresVersion,
                postgresVersionNum, systemIdentifier, timeline, startLsn, stopLsn, startWalFile, stopWalFile,
                walSegmentSize, compression, databaseSizeBytes, checkpoint, files, tablespaces, fromStandby,
                FULL, null, List.of(), null, null, null, null);
    }

    /** A diff or incr: restoring it needs its {@link #chain()} first. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isIncremental() {
        return !FULL.equals(type);
    }

    /** A builder with the current format version, no files, no tablespaces, not from a standby. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this manifest's values, to change some of them. */
    public Builder toBuilder() {
        return new Builder()
                .formatVersion(formatVersion)
                .id(id)
                .label(label)
                .startTime(startTime)
                .endTime(endTime)
                .durationMillis(durationMillis)
                .pgbackupVersion(pgbackupVersion)
                .postgresVersion(postgresVersion)
                .postgresVersionNum(postgresVersionNum)
                .systemIdentifier(systemIdentifier)
                .timeline(timeline)
                .startLsn(startLsn)
                .stopLsn(stopLsn)
                .startWalFile(startWalFile)
                .stopWalFile(stopWalFile)
                .walSegmentSize(walSegmentSize)
                .compression(compression)
                .databaseSizeBytes(databaseSizeBytes)
                .checkpoint(checkpoint)
                .files(files)
                .tablespaces(tablespaces)
                .fromStandby(fromStandby)
                .type(type)
                .parent(parent)
                .chain(chain)
                .parentStartLsn(parentStartLsn)
                .dataChecksums(dataChecksums)
                .incrementalMethod(incrementalMethod)
                .fileList(fileList);
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

    /** Builds a manifest by name rather than by the position of 22 arguments. */
    public static final class Builder {
        private int formatVersion = FORMAT_VERSION;
        private String id;
        private String label;
        private OffsetDateTime startTime;
        private OffsetDateTime endTime;
        private long durationMillis;
        private String pgbackupVersion;
        private String postgresVersion;
        private int postgresVersionNum;
        private String systemIdentifier;
        private int timeline;
        private String startLsn;
        private String stopLsn;
        private String startWalFile;
        private String stopWalFile;
        private long walSegmentSize;
        private String compression;
        private long databaseSizeBytes;
        private String checkpoint;
        private List<BackupFile> files = List.of();
        private List<Tablespace> tablespaces = List.of();
        private boolean fromStandby;
        private String type = FULL;
        private String parent;
        private List<String> chain = List.of();
        private String parentStartLsn;
        private Boolean dataChecksums;
        private String incrementalMethod;
        private String fileList;

        private Builder() {
        }

        public Builder formatVersion(int formatVersion) {
            this.formatVersion = formatVersion;
            return this;
        }

        public Builder id(String id) {
            this.id = id;
            return this;
        }

        public Builder label(String label) {
            this.label = label;
            return this;
        }

        public Builder startTime(OffsetDateTime startTime) {
            this.startTime = startTime;
            return this;
        }

        public Builder endTime(OffsetDateTime endTime) {
            this.endTime = endTime;
            return this;
        }

        public Builder durationMillis(long durationMillis) {
            this.durationMillis = durationMillis;
            return this;
        }

        public Builder pgbackupVersion(String pgbackupVersion) {
            this.pgbackupVersion = pgbackupVersion;
            return this;
        }

        public Builder postgresVersion(String postgresVersion) {
            this.postgresVersion = postgresVersion;
            return this;
        }

        public Builder postgresVersionNum(int postgresVersionNum) {
            this.postgresVersionNum = postgresVersionNum;
            return this;
        }

        public Builder systemIdentifier(String systemIdentifier) {
            this.systemIdentifier = systemIdentifier;
            return this;
        }

        public Builder timeline(int timeline) {
            this.timeline = timeline;
            return this;
        }

        public Builder startLsn(String startLsn) {
            this.startLsn = startLsn;
            return this;
        }

        public Builder stopLsn(String stopLsn) {
            this.stopLsn = stopLsn;
            return this;
        }

        public Builder startWalFile(String startWalFile) {
            this.startWalFile = startWalFile;
            return this;
        }

        public Builder stopWalFile(String stopWalFile) {
            this.stopWalFile = stopWalFile;
            return this;
        }

        public Builder walSegmentSize(long walSegmentSize) {
            this.walSegmentSize = walSegmentSize;
            return this;
        }

        public Builder compression(String compression) {
            this.compression = compression;
            return this;
        }

        public Builder databaseSizeBytes(long databaseSizeBytes) {
            this.databaseSizeBytes = databaseSizeBytes;
            return this;
        }

        public Builder checkpoint(String checkpoint) {
            this.checkpoint = checkpoint;
            return this;
        }

        public Builder files(List<BackupFile> files) {
            this.files = files;
            return this;
        }

        public Builder tablespaces(List<Tablespace> tablespaces) {
            this.tablespaces = tablespaces;
            return this;
        }

        public Builder fromStandby(boolean fromStandby) {
            this.fromStandby = fromStandby;
            return this;
        }

        public Builder type(String type) {
            this.type = type;
            return this;
        }

        public Builder parent(String parent) {
            this.parent = parent;
            return this;
        }

        public Builder chain(List<String> chain) {
            this.chain = chain;
            return this;
        }

        public Builder parentStartLsn(String parentStartLsn) {
            this.parentStartLsn = parentStartLsn;
            return this;
        }

        public Builder dataChecksums(Boolean dataChecksums) {
            this.dataChecksums = dataChecksums;
            return this;
        }

        public Builder incrementalMethod(String incrementalMethod) {
            this.incrementalMethod = incrementalMethod;
            return this;
        }

        public Builder fileList(String fileList) {
            this.fileList = fileList;
            return this;
        }

        public BackupManifest build() {
            return new BackupManifest(formatVersion, id, label, startTime, endTime, durationMillis, pgbackupVersion,
                    postgresVersion, postgresVersionNum, systemIdentifier, timeline, startLsn, stopLsn, startWalFile,
                    stopWalFile, walSegmentSize, compression, databaseSizeBytes, checkpoint, files, tablespaces,
                    fromStandby, type, parent, chain, parentStartLsn, dataChecksums, incrementalMethod, fileList);
        }
    }
}
