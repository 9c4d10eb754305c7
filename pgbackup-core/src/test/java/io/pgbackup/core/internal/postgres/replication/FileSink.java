package io.pgbackup.core.internal.postgres.replication;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** A sink that writes each stream to a file of its name in {@code dir}, as pg_basebackup -Ft would. */
class FileSink implements BaseBackupSink {
    final Path dir;
    final List<ArchiveStart> archives = new CopyOnWriteArrayList<>();
    volatile long lastDone;

    FileSink(Path dir) {
        this.dir = dir;
    }

    @Override
    public OutputStream archive(ArchiveStart archive) throws IOException {
        archives.add(archive);
        return open(archive.name());
    }

    @Override
    public OutputStream walArchive() throws IOException {
        return open("pg_wal.tar");
    }

    @Override
    public OutputStream manifest() throws IOException {
        return open("backup_manifest");
    }

    @Override
    public void progress(long doneBytes, long totalBytes) {
        lastDone = doneBytes;
    }

    private OutputStream open(String name) throws IOException {
        Files.createDirectories(dir);
        return Files.newOutputStream(dir.resolve(name));
    }

    List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
