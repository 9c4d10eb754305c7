package io.pgbackup.core.internal.sync;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A copy of the WAL (rsync's WAL pass, the S3 sync's WAL plan) carries what reading it back needs:
 * the data keysets of sealed segments and the sealed inventory of the plain objects from before
 * encryption. Without the inventory, a copy of a mixed repository used as the repository refuses its
 * legitimate plain objects.
 */
class WalCopyFiltersTest {
    @TempDir
    Path work;

    @Test
    void rsyncsWalPassCopiesSegmentsKeysetsAndTheInventoryAndNothingElse() throws Exception {
        Path src = work.resolve("src");
        for (String f : List.of("wal_archive/000000010000000000000001.gz", "wal_archive/keys/20261206T000000Z-0a1b2c3d.json",
                "wal_archive/inventory/plain_inventory.json", "base/20261206_000000/base.tar.gz")) {
            Files.createDirectories(src.resolve(f).getParent());
            Files.writeString(src.resolve(f), f);
        }
        Path dst = Files.createDirectories(work.resolve("dst"));
        List<String> command = new ArrayList<>(List.of("rsync", "-a"));
        command.addAll(RsyncRemoteSyncer.WAL_FILTERS);
        command.addAll(List.of(src + "/", dst + "/"));
        Process rsync = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(rsync.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(rsync.exitValue()).as(new String(rsync.getInputStream().readAllBytes())).isZero();

        assertThat(dst.resolve("wal_archive/000000010000000000000001.gz")).exists();
        assertThat(dst.resolve("wal_archive/keys/20261206T000000Z-0a1b2c3d.json")).exists();
        assertThat(dst.resolve("wal_archive/inventory/plain_inventory.json")).exists();
        assertThat(dst.resolve("base")).doesNotExist();
    }

    @Test
    void theS3WalPlanTakesKeysetsAndTheInventoryAmongNestedObjects() {
        assertThat(S3Syncer.travelsWithTheWal("wal_archive/inventory/plain_inventory.json")).isTrue();
        assertThat(S3Syncer.travelsWithTheWal("wal_archive/keys/20261206T000000Z-0a1b2c3d.json")).isTrue();
        assertThat(S3Syncer.travelsWithTheWal("wal_archive/other/thing.json")).isFalse();
    }
}
