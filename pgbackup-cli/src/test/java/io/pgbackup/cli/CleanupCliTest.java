package io.pgbackup.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgbackup.core.internal.archive.WalSegmentName;
import io.pgbackup.core.internal.storage.Repository;
import io.pgbackup.core.testing.RepositoryFixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** cleanup through the real jar on a synthetic repository: dry run, JSON, the real run, usage errors. */
class CleanupCliTest {
    static final long SEG = 16L * 1024 * 1024;

    @TempDir
    Path root;
    Repository repository;
    Map<String, String> env;

    @BeforeEach
    void repository() throws IOException {
        repository = new Repository(root);
        repository.createLayout();
        env = Map.of("PG_BACKUP_DIR", root.toString(), "PG_BACKUP_RETAIN_COUNT", "2");
    }

    private String backup(int daysAgo, long startSeg) throws IOException {
        OffsetDateTime end = OffsetDateTime.now(ZoneOffset.UTC).minusDays(daysAgo);
        String id = end.format(DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss"));
        String start = new WalSegmentName(1, startSeg, SEG).fileName();
        return RepositoryFixtures.backup(repository, id, end, 1, start, start, 4096);
    }

    private void wal(long from, long to, int daysAgo) throws IOException {
        for (long s = from; s <= to; s++) {
            Path p = repository.walArchiveDir().resolve(new WalSegmentName(1, s, SEG).fileName() + ".zst");
            Files.write(p, new byte[1024]);
            Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofDays(daysAgo))));
        }
    }

    private List<String> snapshot() throws IOException {
        return RepositoryFixtures.snapshot(repository);
    }

    @Test
    void dryRunPrintsThePlanAndChangesNothingThenTheRunDoesExactlyThat() throws Exception {
        String d20 = backup(20, 2);
        String d15 = backup(15, 4);
        String d2 = backup(2, 6);
        String d1 = backup(1, 8);
        wal(1, 9, 30);
        List<String> before = snapshot();

        CliProcess.Result dry = CliProcess.run(env, "cleanup", "--dry-run");
        assertThat(dry.exitCode()).as(dry.all()).isZero();
        assertThat(dry.stdout())
                .contains("keep      " + d1).contains("keep      " + d2)
                .contains("delete    " + d15).contains("delete    " + d20)
                .contains("WAL timeline 1: keep from 000000010000000000000006")
                .contains("would delete 5 WAL file(s)")
                .contains("dry run: nothing was changed");
        assertThat(snapshot()).isEqualTo(before);

        CliProcess.Result dryJson = CliProcess.run(env, "cleanup", "--dry-run", "--json");
        assertThat(dryJson.exitCode()).as(dryJson.all()).isZero();
        JsonNode plan = new ObjectMapper().readTree(dryJson.stdout());
        assertThat(plan.path("delete")).hasSize(2);
        assertThat(plan.path("walToDelete")).hasSize(5);
        assertThat(plan.path("walFloors").get(0).path("oldestKept").asText()).isEqualTo("000000010000000000000006");
        assertThat(snapshot()).isEqualTo(before);

        CliProcess.Result run = CliProcess.run(env, "cleanup", "--json");
        assertThat(run.exitCode()).as(run.all()).isZero();
        JsonNode result = new ObjectMapper().readTree(run.stdout());
        assertThat(result.path("deletedBackups")).extracting(JsonNode::asText).containsExactly(d15, d20);
        assertThat(result.path("deletedWalFiles").asInt()).isEqualTo(5);
        assertThat(result.path("bytesFreed").asLong()).isEqualTo(plan.path("bytesFreed").asLong());

        CliProcess.Result list = CliProcess.run(env, "list");
        assertThat(list.stdout()).contains(d1).contains(d2).doesNotContain(d15).doesNotContain(d20);

        CliProcess.Result again = CliProcess.run(env, "cleanup");
        assertThat(again.exitCode()).as(again.all()).isZero();
        assertThat(again.stdout()).contains("cleanup done").contains("0 backup(s), 0 WAL file(s)");
    }

    @Test
    void withoutBackupsWalStaysAndTheOutputSaysWhy() throws Exception {
        wal(1, 3, 60);
        CliProcess.Result r = CliProcess.run(env, "cleanup");
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.stdout()).contains("note: there are no backups, so no WAL is deleted");
        try (Stream<Path> s = Files.list(repository.walArchiveDir())) {
            assertThat(s).hasSize(3);
        }
    }

    @Test
    void missingOrBadSettingsAreUsageErrorsInOneLine() throws Exception {
        CliProcess.Result noDir = CliProcess.run(Map.of(), "cleanup", "--dry-run");
        assertThat(noDir.exitCode()).isEqualTo(2);
        assertThat(noDir.stderr().strip()).startsWith("pgbackup: PG_BACKUP_DIR is not set").doesNotContain("\n");

        CliProcess.Result bad = CliProcess.run(Map.of("PG_BACKUP_DIR", root.toString(), "PG_BACKUP_RETAIN_DAYS", "a week"), "cleanup");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.stderr().strip()).contains("PG_BACKUP_RETAIN_DAYS").doesNotContain("\n");
    }
}
