package io.pgbackup.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code pgbackup demo}, the README's first command, passes and cleans up after itself. */
class DemoCliTest {
    @TempDir
    Path work;

    @Test
    void demoRestoresTheDroppedRowsAndLeavesNothingBehind() throws Exception {
        CliProcess.Result r = CliProcess.run(Map.of("PG_BIN", io.pgbackup.core.testing.PgCluster.binaries().binDir().toString()),
                "demo", "--dir", work.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.stdout()).contains("backup", "restore to T", "= the rows at T", "PITR demo passed");
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void keepLeavesTheFilesAndSaysWhere() throws Exception {
        CliProcess.Result r = CliProcess.run(Map.of(), "demo", "--dir", work.toString(), "--keep");
        assertThat(r.exitCode()).as(r.all()).isZero();
        String kept = r.stdout().lines().filter(l -> l.startsWith("kept in ")).findFirst().orElseThrow().substring(8);
        assertThat(Path.of(kept).resolve("restored/PG_VERSION")).exists();
        assertThat(Path.of(kept).resolve("backups/base")).isDirectory();
    }

    /**
     * {@code demo --s3}: the offsite copy in a bucket on the in-process S3 server, the local
     * repository removed before the restore, the rows back from the bucket alone; nothing left behind.
     */
    @Test
    void s3DemoRestoresFromTheBucketAloneAndLeavesNothingBehind() throws Exception {
        CliProcess.Result r = CliProcess.run(Map.of("PG_BIN", io.pgbackup.core.testing.PgCluster.binaries().binDir().toString()),
                "demo", "--s3", "--dir", work.toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.stdout()).contains("S3 server (s3proxy, in-process) on http://127.0.0.1:", "copied to s3://pgbackup-demo/demo",
                "disaster: local repository lost", "restore to T from the bucket", "= the rows at T",
                "PITR demo passed", "restored from the bucket alone");
        // The demo's credentials are made up per run and only ever in its processes' environment.
        assertThat(r.all()).doesNotContain("AWS_SECRET_ACCESS_KEY");
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left).isEmpty();
        }
    }
}
