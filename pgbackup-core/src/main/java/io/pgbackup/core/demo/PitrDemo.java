package io.pgbackup.core.demo;

import io.pgbackup.core.postgres.PgBinaries;
import io.pgbackup.core.storage.s3.S3Settings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * {@code pgbackup demo}: the whole point-in-time recovery cycle on a throwaway cluster, each step
 * reported with its timing as it ends. An interface so that the API never names the
 * implementation (in {@code io.pgbackup.core.internal.demo}, found with {@link ServiceLoader}).
 */
public interface PitrDemo {
    /** The demo with the library's own process runner, on these PostgreSQL programs. */
    static PitrDemo create(PgBinaries binaries) {
        Iterator<Factory> found = ServiceLoader.load(Factory.class, PitrDemo.class.getClassLoader()).iterator();
        if (!found.hasNext()) {
            throw new IllegalStateException("pgbackup-core's META-INF/services/" + Factory.class.getName() + " is missing");
        }
        return found.next().create(binaries);
    }

    /** Refuses to run as root (initdb does), before the caller creates a server or a directory. */
    void refuseRoot();

    /**
     * The demo with the repository's offsite copy in {@code bucket}, and a disaster before the
     * restore: the local repository is removed and the restore reads the bucket alone.
     * {@code launcher} is how the scripts run pgbackup ({@code wal-fetch}, the WAL copies).
     */
    PitrDemo withBucket(Bucket bucket, List<String> launcher);

    /**
     * Runs the demo in a new directory under {@code parent}; removes it at the end unless
     * {@code keep}. Fails with a one-line {@link io.pgbackup.core.PgBackupException} naming the step that failed.
     */
    Result run(Path parent, boolean keep, Consumer<Step> listener);

    /**
     * An S3 bucket for the demo: where it is, and the environment that lets a pgbackup process
     * reach it ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}): given to the clusters, so
     * that archive_wal.sh's copies and restore_wal.sh's {@code wal-fetch} can sign their requests.
     */
    record Bucket(S3Settings settings, Map<String, String> environment) {
        public Bucket {
            environment = Map.copyOf(environment);
        }
    }

    /** One finished step: what it did, how long it took, what it found. */
    record Step(String name, Duration duration, String detail) {
    }

    /** The outcome: every step, where the throwaway files are (if kept), and whether the rows came back. */
    record Result(List<Step> steps, Duration total, boolean rowsRestored, String expected, String restored,
                  Optional<Path> keptAt) {
        public Result {
            steps = List.copyOf(steps);
        }
    }

    /** The implementation behind {@link #create}, registered in {@code META-INF/services}; not for embedders. */
    interface Factory {
        PitrDemo create(PgBinaries binaries);
    }
}
