package io.pgbackup.core.health;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What {@code pgbackup check} found, as a Nagios/Icinga plugin reports it: a state (its exit
 * code), one summary line, the findings behind it and performance data.
 */
public record CheckReport(State state, String summary, List<Finding> findings, List<PerfData> perfData) {
    public CheckReport {
        findings = List.copyOf(findings);
        perfData = List.copyOf(perfData);
    }

    /** The Nagios plugin states, in order of severity; the ordinal is the exit code. */
    public enum State {
        OK, WARNING, CRITICAL, UNKNOWN;

        public int exitCode() {
            return ordinal();
        }

        /** The worse of two: CRITICAL over WARNING over OK; UNKNOWN only where nothing could be judged. */
        public State worse(State other) {
            int rank = rank(this);
            return rank(other) > rank ? other : this;
        }

        private static int rank(State s) {
            return switch (s) {
                case OK -> 0;
                case WARNING -> 1;
                case UNKNOWN -> 2;
                case CRITICAL -> 3;
            };
        }
    }

    /** One problem: how bad, a short key for scripts ({@code backup_age}, {@code archiving}, ...) and a one-line message. */
    public record Finding(State state, String key, String message) {
    }

    /**
     * One performance datum, rendered {@code 'label'=value[unit];warn;crit;min;max} as the
     * Nagios plugin guidelines have it; null thresholds and bounds are left empty.
     */
    public record PerfData(String label, double value, String unit, Double warn, Double crit, Double min, Double max) {
        public PerfData {
            if (!label.matches("[a-z_]+")) {
                throw new IllegalArgumentException("perf data label " + label);
            }
            unit = unit == null ? "" : unit;
        }

        public String render() {
            String s = label + "=" + number(value) + unit + ";" + optional(warn) + ";" + optional(crit) + ";"
                    + optional(min) + ";" + optional(max);
            return s.replaceAll(";+$", "");
        }

        private static String optional(Double d) {
            return d == null ? "" : number(d);
        }

        private static String number(double d) {
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return Long.toString((long) d);
            }
            return String.format(Locale.ROOT, "%.3f", d);
        }
    }

    /** The report of a check that could not run (configuration error, repository unreadable). */
    public static CheckReport unknown(String message) {
        return new CheckReport(State.UNKNOWN, oneLine(message), List.of(new Finding(State.UNKNOWN, "check", oneLine(message))),
                List.of());
    }

    /** The plugin's output line: {@code PGBACKUP OK - summary | perfdata}. */
    public String line() {
        String perf = perfData.stream().map(PerfData::render).collect(Collectors.joining(" "));
        return "PGBACKUP " + state + " - " + summary + (perf.isEmpty() ? "" : " | " + perf);
    }

    public static String oneLine(String s) {
        // A '|' would start the perf data for Nagios; newlines would end the first line.
        return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ').replace('|', '/').strip();
    }
}
