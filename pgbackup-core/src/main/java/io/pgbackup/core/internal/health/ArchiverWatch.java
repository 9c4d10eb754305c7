package io.pgbackup.core.internal.health;

import io.pgbackup.core.health.Health;
import io.pgbackup.core.health.HealthSettings;
import io.pgbackup.core.internal.concurrent.Pools;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * While the async archiver runs: every {@link #INTERVAL} (rate-limited, a snapshot queries the
 * cluster) the metrics file is rewritten and archiving failures and recoveries are notified,
 * from the archiver's state file and pg_stat_archiver. It watches from outside, so the archiver
 * itself knows nothing of monitoring; a slow notify command never delays an acknowledgement.
 */
public final class ArchiverWatch implements Health.Watch {
    static final Duration INTERVAL = Duration.ofSeconds(30);

    private final ScheduledExecutorService timer;
    private final Runnable round;

    private ArchiverWatch(ScheduledExecutorService timer, Runnable round) {
        this.timer = timer;
        this.round = round;
    }

    /** Starts watching when a notify command or a metrics file is configured; else a watch that does nothing. */
    public static ArchiverWatch start(Map<String, String> env, Health health, Consumer<String> warnings) {
        HealthSettings settings;
        try {
            settings = HealthSettings.fromEnvironment(env);
        } catch (RuntimeException e) {
            warnings.accept(e.getMessage());
            return new ArchiverWatch(null, () -> { });
        }
        if (!settings.notifications().enabled() && settings.metricsFile().isEmpty()) {
            return new ArchiverWatch(null, () -> { });
        }
        Runnable round = () -> {
            try {
                List<String> w = health.observe(health.snapshot(settings.thresholds()), settings);
                w.forEach(warnings);
            } catch (RuntimeException e) {
                warnings.accept("archiver monitoring: " + e.getMessage());
            }
        };
        ScheduledExecutorService timer = Pools.scheduledSingle("pgbackup-archiver-watch");
        timer.scheduleWithFixedDelay(round, INTERVAL.toSeconds(), INTERVAL.toSeconds(), TimeUnit.SECONDS);
        return new ArchiverWatch(timer, round);
    }

    /** Stops the timer and takes one last look, so the file and the events reflect how the run ended. */
    @Override
    public void close() {
        if (timer == null) {
            return;
        }
        timer.shutdownNow();
        round.run();
    }
}
