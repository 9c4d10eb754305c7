package io.pgbackup.core.internal.backup;

import io.pgbackup.core.internal.incremental.FileListing;
import io.pgbackup.core.internal.incremental.IncrementalTarFilter;
import io.pgbackup.core.internal.incremental.PageRule;
import io.pgbackup.core.internal.storage.AtomicFiles;
import io.pgbackup.core.internal.storage.StoredName;
import io.pgbackup.core.storage.Compression;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Between the source and the {@link StoringSink}: each data tar the server did not compress is read
 * on its way, its files listed ({@code pgbackup_files.json}) and, for a diff or incr, its relation
 * segments cut down to the changed pages. WAL and the manifest pass untouched.
 */
final class FilteringSink implements ArchiveSink {
    private final StoringSink sink;
    private final Optional<PageRule> rule;
    private final Path spoolDir;
    private final FileListing listing = new FileListing();
    private final List<IncrementalTarFilter> filters = new ArrayList<>();
    private boolean sawServerCompressed;
    private volatile boolean manifestSeen;

    FilteringSink(StoringSink sink, Optional<PageRule> rule, Path spoolDir) {
        this.sink = sink;
        this.rule = rule;
        this.spoolDir = spoolDir;
    }

    @Override
    public OutputStream archive(String name) throws IOException {
        OutputStream out = sink.archive(name);
        StoredName stored = StoredName.parse(name);
        if (stored.stem().equals("pg_wal.tar")) {
            return out;
        }
        if (stored.compression() != Compression.NONE) {
            sawServerCompressed = true;
            return out;
        }
        String prefix = stored.stem().equals("base.tar") ? "" : "pg_tblspc/" + stored.stem().replaceFirst("\\.tar$", "") + "/";
        IncrementalTarFilter filter = new IncrementalTarFilter(out, prefix, rule, listing, spoolDir);
        synchronized (filters) {
            filters.add(filter);
        }
        return filter;
    }

    @Override
    public OutputStream manifest() throws IOException {
        manifestSeen = true;
        return sink.manifest();
    }

    /**
     * Stores the file list when the server wrote no backup_manifest (PostgreSQL 12): otherwise that
     * lists every file with the size the next incremental needs.
     */
    Optional<String> storeListing(Compression compression) throws IOException {
        if (manifestSeen || sawServerCompressed || listing.size() == 0) {
            return Optional.empty();
        }
        String name = FileListing.FILE + compression.suffix();
        try (OutputStream out = sink.extra(name, compression)) {
            listing.write(out);
        }
        return Optional.of(name);
    }

    /** Removes the spools a failed backup left. */
    void abort() {
        synchronized (filters) {
            for (IncrementalTarFilter f : filters) {
                try {
                    f.discardSpool();
                } catch (IOException | RuntimeException ignored) {
                    // removed with the directory below
                }
            }
        }
        removeSpoolDir();
    }

    void removeSpoolDir() {
        if (!Files.exists(spoolDir)) {
            return;
        }
        try {
            AtomicFiles.deleteTree(spoolDir);
            try (Stream<Path> rest = Files.list(spoolDir.getParent())) {
                if (rest.findAny().isEmpty()) {
                    Files.deleteIfExists(spoolDir.getParent());
                }
            }
        } catch (IOException ignored) {
            // a leftover spool is removed by the next backup of this id's directory, or by hand
        }
    }
}
