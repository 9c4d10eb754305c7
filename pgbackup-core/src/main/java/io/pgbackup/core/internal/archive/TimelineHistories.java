package io.pgbackup.core.internal.archive;

import io.pgbackup.core.ErrorCode;
import io.pgbackup.core.PgBackupException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How the timelines of one {@link WalArchive} view branch, from its {@code .history} files: the
 * ancestors of a timeline, the one {@code recovery_target_timeline = 'latest'} ends on, the path of
 * timelines a recovery reads. Each history file is read once per view (immutable once archived).
 */
public final class TimelineHistories {
    private final WalArchive archive;
    /** Parsed history files, by timeline: asked for again by every timeline question. */
    private final Map<Integer, List<TimelineSwitch>> histories = new ConcurrentHashMap<>();
    /** Sealed .history files not opened for want of the private key, once {@link #skipSealed} asked for it. */
    private final Set<String> unopenedHistories = ConcurrentHashMap.newKeySet();
    private volatile boolean skipSealed;

    TimelineHistories(WalArchive archive) {
        this.archive = archive;
    }

    /** The archived name of {@code timeline}'s history file, e.g. {@code 00000002.history}. */
    public static String historyFileName(int timeline) {
        return String.format("%08X.history", timeline);
    }

    /** A switch to a new timeline, from a {@code .history} file line: the parent, and where the child branched off. */
    public record TimelineSwitch(int parentTimeline, long switchLsn) {
    }

    /**
     * The timeline recovery with {@code recovery_target_timeline = 'latest'} ends on, starting from
     * {@code timeline}: the highest one whose history descends from it.
     */
    public int latestTimelineFrom(int timeline) {
        int latest = timeline;
        if (archive.isSharded()) {
            // As PostgreSQL's findNewestTimeLine: ask for each next history file until one is missing.
            for (int tli = timeline + 1; archive.find(historyFileName(tli)).isPresent(); tli++) {
                if (history(tli).stream().anyMatch(s -> s.parentTimeline() == timeline)) {
                    latest = tli;
                }
            }
            return latest;
        }
        for (int tli : timelinesWithHistory()) {
            if (tli > latest && history(tli).stream().anyMatch(s -> s.parentTimeline() == timeline)) {
                latest = tli;
            }
        }
        return latest;
    }

    /**
     * The timeline {@code recovery_target_timeline = 'latest'} makes PostgreSQL recover to from a
     * backup on {@code timeline}: as its findNewestTimeLine, the last of the history files that
     * follow one another from {@code timeline + 1} on, whatever their ancestry (PostgreSQL checks that
     * afterwards, and refuses to start on a timeline that is not a child of the backup's).
     */
    public int newestTimeline(int timeline) {
        int newest = timeline;
        for (int tli = timeline + 1; tli != 0 && archive.find(historyFileName(tli)).isPresent(); tli++) {
            newest = tli;
        }
        return newest;
    }

    /** From now on a sealed history this host cannot open counts as none, and is remembered ({@link WalArchive#skippingSealedHistories}). */
    void skipSealed() {
        skipSealed = true;
    }

    /** The sealed .history files skipped so far, by name, in order. */
    public List<String> unopenedHistories() {
        return unopenedHistories.stream().sorted().toList();
    }

    /** The ancestors of {@code timeline}, oldest first, from its history file; empty for timeline 1 or no file. */
    public List<TimelineSwitch> history(int timeline) {
        List<TimelineSwitch> known = histories.get(timeline);
        if (known != null) {
            return known;
        }
        List<TimelineSwitch> read = readHistory(timeline);
        histories.put(timeline, read);
        return read;
    }

    private List<TimelineSwitch> readHistory(int timeline) {
        String name = historyFileName(timeline);
        WalArchive.Entry entry = archive.find(name).orElse(null);
        if (entry == null) {
            return List.of();
        }
        List<TimelineSwitch> switches = new ArrayList<>();
        try (InputStream in = archive.open(entry)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length >= 2 && !line.trim().startsWith("#") && fields[0].matches("\\d+")) {
                    switches.add(new TimelineSwitch(Integer.parseInt(fields[0]), WalSegmentName.parseLsn(fields[1])));
                }
            }
        } catch (io.pgbackup.core.internal.crypto.SealedFormat.NoKeyException e) {
            if (!skipSealed) {
                throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, archive.repository().locationOf(entry.key())
                        + " is not a readable timeline history: " + e.getMessage(), e);
            }
            unopenedHistories.add(name);
            return List.of();
        } catch (IOException | IllegalArgumentException e) {
            throw new PgBackupException(ErrorCode.VERIFICATION_FAILED, archive.repository().locationOf(entry.key()) + " is not a readable timeline history: "
                    + e.getMessage(), e);
        }
        return switches;
    }

    /**
     * The timelines recovery with {@code recovery_target_timeline = 'latest'} reads from a backup on
     * {@code timeline}: that one, then each descendant named by the {@code .history} files, each
     * from the segment holding its switch point.
     */
    public TimelinePath pathFrom(int timeline, long segmentSize) {
        return pathTo(timeline, latestTimelineFrom(timeline), segmentSize);
    }

    /**
     * The timelines from {@code timeline} to {@code target}, as the history file of {@code target}
     * names them; only {@code timeline} itself when {@code target} does not descend from it.
     */
    public TimelinePath pathTo(int timeline, int target, long segmentSize) {
        int latest = descendsFrom(target, timeline) ? target : timeline;
        List<TimelinePath.Step> steps = new ArrayList<>(List.of(new TimelinePath.Step(timeline, Long.MIN_VALUE)));
        if (latest != timeline) {
            // history(latest) lists every ancestor, oldest first, with the LSN where its child branched off.
            List<TimelineSwitch> switches = history(latest);
            for (int i = 0; i < switches.size(); i++) {
                int child = i + 1 < switches.size() ? switches.get(i + 1).parentTimeline() : latest;
                if (switches.get(i).parentTimeline() >= timeline) {
                    steps.add(new TimelinePath.Step(child, Long.divideUnsigned(switches.get(i).switchLsn(), segmentSize)));
                }
            }
        }
        return new TimelinePath(steps, segmentSize);
    }

    /** Whether {@code timeline} is {@code ancestor} or its history names {@code ancestor}. */
    public boolean descendsFrom(int timeline, int ancestor) {
        return timeline == ancestor || history(timeline).stream().anyMatch(s -> s.parentTimeline() == ancestor);
    }

    /** The timelines that have a history file in this (full) view, in order. */
    public List<Integer> timelinesWithHistory() {
        archive.requireFull("timelinesWithHistory()");
        List<Integer> out = new ArrayList<>();
        for (String name : archive.entries().keySet()) {
            if (name.matches("[0-9A-F]{8}\\.history")) {
                out.add(Integer.parseInt(name.substring(0, 8), 16));
            }
        }
        return out;
    }
}
