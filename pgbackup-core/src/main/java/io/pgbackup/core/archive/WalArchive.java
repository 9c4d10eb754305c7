package io.pgbackup.core.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.storage.Repository;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A read-only view of {@code wal_archive/}: what is archived under which compression, and the
 * timeline history files that say how timelines branch. Hidden files are archive calls in
 * progress and are never part of the view.
 */
public final class WalArchive {
    private final Path dir;
    private final Map<String, Entry> entries;

    private WalArchive(Path dir, Map<String, Entry> entries) {
        this.dir = dir;
        this.entries = entries;
    }

    /** One archived file: its name as PostgreSQL knows it (no suffix), where it is, how it is compressed, when it was archived. */
    public record Entry(String name, Path path, Compression compression, Instant archivedAt) {
    }

    /** A switch to a new timeline, from a {@code .history} file line: the parent, and where the child branched off. */
    public record TimelineSwitch(int parentTimeline, long switchLsn) {
    }

    public static WalArchive read(Repository repository) {
        Path dir = repository.walArchiveDir();
        Map<String, Entry> entries = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    String file = p.getFileName().toString();
                    if (file.startsWith(".")) {
                        continue;
                    }
                    Compression c = Compression.ofSuffix(file).orElse(Compression.NONE);
                    String name = file.substring(0, file.length() - c.suffix().length());
                    entries.put(name, new Entry(name, p, c, Files.getLastModifiedTime(p).toInstant()));
                }
            } catch (IOException e) {
                throw new PgBackupException(ErrorCode.IO_FAILED, "cannot read " + dir + ": " + e.getMessage(), e);
            }
        }
        return new WalArchive(dir, Collections.unmodifiableMap(entries));
    }

    public Path dir() {
        return dir;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Optional<Entry> find(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /** Archived segments (not history, backup or partial files) of {@code timeline}, in order. */
    public List<WalSegmentName> segments(int timeline, long segmentSize) {
        List<WalSegmentName> out = new ArrayList<>();
        for (String name : entries.keySet()) {
            WalSegmentName.parse(name, segmentSize).filter(s -> s.timeline() == timeline).ifPresent(out::add);
        }
        return out;
    }

    /**
     * The timeline recovery with {@code recovery_target_timeline = 'latest'} ends on, starting from
     * {@code timeline}: the highest one whose history descends from it.
     */
    public int latestTimelineFrom(int timeline) {
        int latest = timeline;
        for (String name : entries.keySet()) {
            if (name.matches("[0-9A-F]{8}\\.history")) {
                int tli = Integer.parseInt(name.substring(0, 8), 16);
                if (tli > latest && history(tli).stream().anyMatch(s -> s.parentTimeline() == timeline)) {
                    latest = tli;
                }
            }
        }
        return latest;
    }

    /** The ancestors of {@code timeline}, oldest first, from its history file; empty for timeline 1 or no file. */
    public List<TimelineSwitch> history(int timeline) {
        String name = String.format("%08X.history", timeline);
        Entry entry = entries.get(name);
        if (entry == null) {
            return List.of();
        }
        List<TimelineSwitch> switches = new ArrayList<>();
        try (InputStream in = entry.compression().decompress(Files.newInputStream(entry.path()))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 2 && !line.trim().startsWith("#") && fields[0].matches("\\d+")) {
                    switches.add(new TimelineSwitch(Integer.parseInt(fields[0]), WalSegmentName.parseLsn(fields[1])));
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, entry.path() + " is not a readable timeline history: "
                    + e.getMessage(), e);
        }
        return switches;
    }
}
