package io.pgbackup.core.internal.archive;

import io.pgbackup.core.config.ArchiverConfig;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.storage.Compression;
import io.pgbackup.core.internal.storage.LocalStorage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * archive_wal.sh and the Java archiver share one definition of the spool key, the log line and the
 * store rules (rendered into the script by {@link ArchiveScripts}); this runs the real script
 * (sh) next to the Java side and checks they agree.
 */
class ArchiveScriptAgreementTest {
    private static final String SEGMENT = "0000000100000000000000C1";

    @TempDir
    Path work;

    Path backupDir;
    Repository repository;

    @BeforeEach
    void repository() throws IOException {
        backupDir = work.resolve("backup dir").toAbsolutePath();
        repository = new Repository(backupDir);
        Files.createDirectories(repository.walArchiveDir());
        Files.createDirectories(backupDir.resolve("logs"));
    }

    /** The script finds, under the spool directory it computes from $PWD, the acknowledgement Java wrote for that PGDATA. */
    @Test
    void theScriptAndTheArchiverUseTheSameSpoolForOddPgdataPaths() throws Exception {
        // An async script that exits 1 after 3 s without an acknowledgement (and whose "archiver" does nothing).
        Path script = install(new ArchiveScripts(repository, Compression.GZIP, Optional.empty(), Optional.empty(),
                List.of("/bin/true"), ArchiverConfig.defaults().withMode(ArchiverConfig.Mode.ASYNC).withAckTimeoutSeconds(3)));
        List<String> names = List.of("with space", "it's", "dq\"x", "dollar$HOME", "back\\slash", "star*", "glob[ab]",
                "semi;colon", "ünïcødé 日本", "-dash", "tilde~", "a%b", "`tick`", "x y/  two  /z");
        for (String odd : names) {
            Path pgData = Files.createDirectories(work.resolve("clusters").resolve(odd)).toRealPath();
            Files.createDirectories(pgData.resolve("pg_wal/archive_status"));
            Files.write(pgData.resolve("pg_wal").resolve(SEGMENT), new byte[100]);
            Files.writeString(pgData.resolve("pg_wal/archive_status").resolve(SEGMENT + ".ready"), "");
            ArchiveSpool spool = new ArchiveSpool(backupDir, pgData);
            spool.create();
            spool.acknowledge(SEGMENT, pgData);

            Result result = run(pgData, script.toString(), "pg_wal/" + SEGMENT, SEGMENT);

            assertThat(result.exitCode()).as(odd + ": " + result.stderr()).isZero();
            assertThat(spool.okFile(SEGMENT)).as(odd + ": the script consumed Java's acknowledgement").doesNotExist();
            assertThat(spool.dir().getFileName().toString()).isEqualTo(ArchiveSpool.key(pgData.toString()));
        }
        try (var spools = Files.list(ArchiveSpool.root(backupDir))) {
            assertThat(spools.count()).as("no other spool directory than Java's").isEqualTo(names.size());
        }
    }

    @Test
    void theScriptAndTheArchiverWriteLogLinesOfOneShape() throws Exception {
        Path script = install(new ArchiveScripts(repository, Compression.GZIP, Optional.empty()));
        Path source = walFile("pg_wal/" + SEGMENT, 1);
        assertThat(run(work, script.toString(), source.toString(), SEGMENT).exitCode()).isZero();
        assertThat(run(work, script.toString(), source.toString(), SEGMENT).exitCode()).isZero();
        assertThat(run(work, script.toString(), walFile("other/" + SEGMENT, 2).toString(), SEGMENT).exitCode()).isEqualTo(1);
        assertThat(run(work, script.toString(), work.resolve("missing").toString(), SEGMENT).exitCode()).isEqualTo(1);
        List<String> scriptLines = Files.readAllLines(repository.walArchiveLog());
        ArchiveLog javaLog = new ArchiveLog(repository.walArchiveLog());
        javaLog.line("INFO", SEGMENT, "archived", "size=1 stored=2 key=wal_archive/x ms=3");
        javaLog.line("ERROR", "-", "refused", "");
        javaLog.line("WARNING", "-", "offsite-pending", "2 archived file(s)");
        javaLog.close();
        List<String> all = Files.readAllLines(repository.walArchiveLog());
        List<String> javaLines = all.subList(scriptLines.size(), all.size());

        assertThat(scriptLines).hasSize(4);
        assertThat(javaLines).hasSize(3);
        List<String> results = new ArrayList<>();
        for (String line : all) {
            Matcher m = ArchiveLogFormat.LINE.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            results.add(m.group(4));
            // Java's formatter rebuilds every line, the script's included, byte for byte.
            assertThat(ArchiveLogFormat.line(Instant.parse(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5),
                    m.group(6) == null ? "" : m.group(6))).isEqualTo(line);
        }
        assertThat(results).containsExactly("archived", "already-archived", "conflict", "failed", "archived", "refused",
                "offsite-pending");
        assertThat(scriptLines).allMatch(l -> ArchiveLogFormat.LINE.matcher(l).replaceFirst("$5").startsWith("size="));
        assertThat(javaLines).allMatch(l -> ArchiveLogFormat.LINE.matcher(l).replaceFirst("$5").equals("archiver"));
    }

    @Test
    void whatJavaStoredTheScriptJudgesByTheSameRules() throws Exception {
        Path script = install(new ArchiveScripts(repository, Compression.GZIP, Optional.empty()));
        Path source = walFile("pg_wal/" + SEGMENT, 3);
        // Stored by Java under another suffix than the script's: the lookup finds it all the same.
        SegmentStore.Stored stored = new SegmentStore(new LocalStorage(backupDir), Compression.ZSTD).store(source, SEGMENT);
        assertThat(stored.key()).endsWith(".zst");
        byte[] archived = Files.readAllBytes(backupDir.resolve(stored.key()));

        Result same = run(work, script.toString(), source.toString(), SEGMENT);
        Result different = run(work, script.toString(), walFile("other/" + SEGMENT, 4).toString(), SEGMENT);

        assertThat(same.exitCode()).isEqualTo(SegmentStore.Rule.IDENTICAL.exitCode()).isZero();
        assertThat(different.exitCode()).isEqualTo(SegmentStore.Rule.CONFLICT.exitCode()).isNotZero();
        assertThat(Files.readAllLines(repository.walArchiveLog())).extracting(l -> l.split(" ")[3])
                .containsExactly(SegmentStore.Rule.IDENTICAL.result(), SegmentStore.Rule.CONFLICT.result());
        assertThat(Files.readAllBytes(backupDir.resolve(stored.key()))).isEqualTo(archived);
        try (var files = Files.list(repository.walArchiveDir())) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly(SEGMENT + ".zst");
        }
    }

    @Test
    void whatTheScriptStoredJavaJudgesByTheSameRules() throws Exception {
        Path script = install(new ArchiveScripts(repository, Compression.GZIP, Optional.empty()));
        Path source = walFile("pg_wal/" + SEGMENT, 5);
        assertThat(run(work, script.toString(), source.toString(), SEGMENT).exitCode()).isEqualTo(SegmentStore.Rule.NEW.exitCode());
        Path archived = repository.walArchiveDir().resolve(SEGMENT + ".gz");
        byte[] bytes = Files.readAllBytes(archived);
        SegmentStore store = new SegmentStore(new LocalStorage(backupDir), Compression.LZ4);

        assertThat(store.store(source, SEGMENT).alreadyArchived()).isTrue();
        assertThatThrownBy(() -> store.store(walFile("other/" + SEGMENT, 6), SEGMENT))
                .isInstanceOf(SegmentStore.ConflictException.class);
        assertThat(Files.readAllBytes(archived)).isEqualTo(bytes);
        try (var files = Files.list(repository.walArchiveDir())) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly(SEGMENT + ".gz");
        }
    }

    private Path install(ArchiveScripts scripts) throws IOException {
        ArchiveScripts.install(repository.archiveScript(), scripts.archiveScript());
        return repository.archiveScript();
    }

    private Path walFile(String relative, long seed) throws IOException {
        byte[] bytes = new byte[200_000];
        new Random(seed).nextBytes(bytes);
        Path file = work.resolve(relative);
        Files.createDirectories(file.getParent());
        Files.write(file, bytes);
        return file;
    }

    private record Result(int exitCode, String stderr) {
    }

    private static Result run(Path dir, String... command) throws IOException, InterruptedException {
        Path err = Files.createTempFile("agreement-", ".err");
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish within 2 minutes");
            }
            return new Result(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.delete(err);
        }
    }
}
