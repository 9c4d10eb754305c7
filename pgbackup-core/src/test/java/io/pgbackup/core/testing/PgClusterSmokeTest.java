package io.pgbackup.core.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PgClusterSmokeTest {
    @TempDir
    Path work;

    @Test
    void startsARealClusterThatAnswersOverTcpWithItsPassword() throws Exception {
        try (PgCluster cluster = PgCluster.create(work)) {
            assertThat(cluster.queryLong("SELECT 1 + 1")).isEqualTo(2);
            assertThat(cluster.queryString("SHOW wal_level")).isEqualTo("replica");
            assertThat(System.getProperty("user.name")).isNotEqualTo("root");
        }
    }
}
