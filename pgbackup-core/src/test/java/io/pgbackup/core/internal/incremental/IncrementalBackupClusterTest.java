package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.PgBackup;
import io.pgbackup.core.backup.BackupInfo;
import io.pgbackup.core.backup.BackupManifest;
import io.pgbackup.core.backup.BackupOptions;
import io.pgbackup.core.backup.BackupType;
import io.pgbackup.core.testing.ArchivingCluster;
import io.pgbackup.core.testing.PgCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * full, then incr, incr and diff on one real cluster (data checksums on, a tablespace) after a
 * workload that updates, deletes, truncates, drops and creates tables and indexes, with TOAST values
 * and a VACUUM FULL. Each file rebuilt from the stored chain, block by block, must have the size and
 * CRC32C the server's backup_manifest gives for the file it sent: that proves the page-LSN filter
 * kept every page that changed (with checksums, any change moves the page's LSN).
 */
class IncrementalBackupClusterTest {
    @TempDir
    static Path work;
    static ArchivingCluster source;
    static PgBackup pg;
    static PgCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        source = ArchivingCluster.create(work);
        pg = source.pgBackup();
        cluster = source.cluster();
        Path ts = Files.createDirectories(work.resolve("ts"));
        // no autovacuum passing over the tables between the backups: the test counts the pages its workload changed
        cluster.execute("ALTER SYSTEM SET autovacuum = off", "SELECT pg_reload_conf()");
        cluster.execute("CREATE TABLESPACE far LOCATION '" + ts + "'",
                "CREATE TABLE big (id int PRIMARY KEY, v text) WITH (fillfactor = 90)",
                "INSERT INTO big SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 150000) g",
                "CREATE TABLE toasty (id int PRIMARY KEY, doc text) TABLESPACE far",
                "INSERT INTO toasty SELECT g, (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 200) i)"
                        + " FROM generate_series(1, 200) g",
                "CREATE TABLE dropme AS SELECT g AS id FROM generate_series(1, 5000) g",
                "CREATE TABLE truncme AS SELECT g AS id FROM generate_series(1, 5000) g",
                "CREATE TABLE rewritten AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g",
                "CREATE INDEX rewritten_v ON rewritten (v)",
                // the first vacuum after a bulk load touches every page (hint bits, visibility map): before the full, as in life
                "VACUUM (FREEZE, ANALYZE)");
    }

    @AfterAll
    static void stop() {
        if (source != null) {
            source.close();
        }
    }

    @Test
    void aChainOfIncrementalsHoldsEveryChangedPageAndFarFewerBytes() throws Exception {
        BackupInfo full = pg.backups().backup(BackupOptions.defaults());
        assertThat(full.manifest().type()).isEqualTo("full");
        // PostgreSQL 13+ lists every file with its size in backup_manifest: no pgbackup_files.json needed
        assertThat(full.manifest().fileList()).isNull();
        assertThat(full.manifest().dataChecksums()).isTrue();

        String dropped = cluster.queryString("SELECT pg_relation_filepath('dropme')");
        String truncated = cluster.queryString("SELECT pg_relation_filepath('truncme')");
        String beforeVacuumFull = cluster.queryString("SELECT pg_relation_filepath('rewritten')");
        cluster.execute("UPDATE big SET v = upper(v) WHERE id BETWEEN 1 AND 300",
                "DELETE FROM big WHERE id BETWEEN 70000 AND 70500",
                "UPDATE toasty SET doc = doc || md5(id::text) WHERE id <= 20",
                "DROP TABLE dropme", "TRUNCATE truncme", "INSERT INTO truncme VALUES (1), (2)",
                "VACUUM FULL rewritten",
                "CREATE TABLE fresh (id int, v text) TABLESPACE far",
                "INSERT INTO fresh SELECT g, md5(g::text) FROM generate_series(1, 3000) g",
                "CREATE INDEX fresh_v ON fresh (v)");
        BackupInfo incr1 = pg.backups().backup(BackupOptions.defaults().withType(BackupType.INCR));

        cluster.execute("UPDATE big SET v = lower(v) WHERE id BETWEEN 149700 AND 150000",
                "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(150001, 151000) g",
                "DROP INDEX rewritten_v", "CREATE INDEX rewritten_id ON rewritten (id)",
                "DELETE FROM toasty WHERE id > 190", "VACUUM big");
        BackupInfo incr2 = pg.backups().backup(BackupOptions.defaults().withType(BackupType.INCR));
        BackupInfo diff = pg.backups().backup(BackupOptions.defaults().withType(BackupType.DIFF));

        assertThat(incr1.manifest()).satisfies(m -> {
            assertThat(m.type()).isEqualTo("incr");
            assertThat(m.parent()).isEqualTo(full.id());
            assertThat(m.chain()).containsExactly(full.id());
            assertThat(m.parentStartLsn()).isEqualTo(full.manifest().startLsn());
            assertThat(m.incrementalMethod()).isEqualTo("page-lsn");
        });
        assertThat(incr2.manifest().parent()).isEqualTo(incr1.id());
        assertThat(incr2.manifest().chain()).containsExactly(full.id(), incr1.id());
        assertThat(diff.manifest().type()).isEqualTo("diff");
        assertThat(diff.manifest().parent()).isEqualTo(full.id());
        assertThat(diff.manifest().chain()).containsExactly(full.id());

        Path repo = source.repository();
        Map<String, byte[]> i1 = ChainReader.files(repo, incr1);
        Map<String, byte[]> i2 = ChainReader.files(repo, incr2);

        // dropped and truncated relfilenodes are gone from the incr; the rewritten table's old file too
        for (String gone : List.of(dropped, truncated, beforeVacuumFull)) {
            assertThat(i1).doesNotContainKeys(gone, ChainReader.incrementalPath(gone));
        }
        assertWellFormed(i1);
        assertWellFormed(i2);
        assertThat(ChainReader.mismatches(repo, List.of(full, incr1))).isEmpty();
        assertThat(ChainReader.mismatches(repo, List.of(full, incr1, incr2))).isEmpty();
        assertThat(ChainReader.mismatches(repo, List.of(full, diff))).isEmpty();
        long fullData = dataBytes(full);
        System.out.printf("stored data bytes: full %d, incr1 %d, incr2 %d, diff %d%n", fullData, dataBytes(incr1), dataBytes(incr2), dataBytes(diff));
        assertThat(dataBytes(incr1)).as("incr1 data tars vs the full's").isLessThan(fullData / 4);
        assertThat(dataBytes(incr2)).as("incr2 data tars vs the full's").isLessThan(fullData / 4);
        assertThat(source.repository().resolve(".spool")).doesNotExist();

        // Retention keeping only the newest backup (the diff) a month on keeps the full it needs, drops the incrs.
        PgBackup later = PgBackup.builder(cluster.config(repo).toBuilder().retainCount(1).build())
                .clock(java.time.Clock.fixed(diff.manifest().endTime().toInstant().plus(java.time.Duration.ofDays(30)),
                        java.time.ZoneOffset.UTC)).build();
        io.pgbackup.core.retention.RetentionPolicy.RetentionPlan plan = later.retentionPolicy().plan();
        assertThat(plan.keep()).extracting(io.pgbackup.core.retention.RetentionPolicy.RetentionPlan.BackupDecision::id)
                .containsExactly(diff.id(), full.id());
        assertThat(plan.keep().get(1).reason()).startsWith("needed by diff " + diff.id() + " (chain " + full.id() + " > " + diff.id() + ")");
        assertThat(plan.delete()).extracting(io.pgbackup.core.retention.RetentionPolicy.RetentionPlan.BackupDecision::id)
                .containsExactlyInAnyOrder(incr1.id(), incr2.id());
        assertThat(plan.delete()).allSatisfy(x -> assertThat(x.reason()).contains("(incr, chain " + full.id() + " > "));
        later.retentionPolicy().execute(plan);
        assertThat(pg.backups().list()).extracting(BackupInfo::id).containsExactly(full.id(), diff.id());
        // the next incr builds on the diff, the newest of the chain that is left
        assertThat(pg.backups().plan(BackupOptions.defaults().withType(BackupType.INCR)).chain()).containsExactly(full.id(), diff.id());
    }

    /** The stored size of the data tars (base and tablespaces), without WAL. */
    private static long dataBytes(BackupInfo b) {
        return b.manifest().files().stream().filter(x -> x.name().startsWith("base.tar") || x.name().matches("[0-9]+\\.tar.*"))
                .mapToLong(BackupManifest.BackupFile::size).sum();
    }

    private static void assertWellFormed(Map<String, byte[]> files) throws Exception {
        int incrementals = 0;
        int empty = 0;
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            String name = e.getKey().substring(e.getKey().lastIndexOf('/') + 1);
            if (!name.startsWith(IncrementalFormat.PREFIX)) {
                // no relation main fork is stored whole by an incremental (they all are 8 KiB multiples here)
                boolean relation = RelationPath.isMainForkSegment(e.getKey(), false);
                assertThat(relation).as(e.getKey() + " stored whole").isFalse();
                continue;
            }
            incrementals++;
            IncrementalFormat.Header h = ChainReader.header(e.getValue());
            assertThat((long) e.getValue().length).as(e.getKey()).isEqualTo(IncrementalFormat.fileSize(h.blockCount()));
            int previous = -1;
            for (int b : h.blockNumbers()) {
                assertThat(b).as(e.getKey() + " block order").isGreaterThan(previous).isLessThan(h.truncationBlockLength());
                previous = b;
            }
            if (h.blockCount() == 0) {
                empty++;
                assertThat(e.getValue()).hasSize(12);
            }
        }
        assertThat(incrementals).isGreaterThan(100);
        assertThat(empty).as("relations with no changed page").isGreaterThan(50);
    }

}
