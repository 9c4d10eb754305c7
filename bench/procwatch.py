#!/usr/bin/env python3
"""procwatch.py: samples, for bench/archive.sh, what /usr/bin/time cannot see.

  procwatch.py --out FILE [--marker STR]... [--exclude-tree PID] [--ready-dir DIR] [--interval S]

Runs until SIGTERM or SIGINT, then writes one JSON object to FILE:

- Detached processes: every process whose command line contains one of the --marker strings and
  that is not in the process tree of --exclude-tree (the postmaster; its archive_command children
  are measured by the caller through the archiver's cutime and /usr/bin/time). Those are the
  long-lived helpers an archive_command starts and leaves behind: the 'pgbackup archiver' JVM,
  pgBackRest's archive-push:async process and its local workers. Processes are grouped by root
  (a detached process whose parent is not itself a detached match). For each root, every sample
  adds up utime + stime + cutime + cstime of the root and of its live descendants (a descendant
  that exits moves into its parent's cutime, so nothing is counted twice), and the maximum over
  the samples is kept: "cpu_seconds" is the sum over roots. It undercounts by at most what a root
  used after its last sample (one --interval). "peak_rss_kb" is the largest sum of VmRSS over all
  detached trees in one sample.
- --ready-dir: the number of *.ready files in that directory (pg_wal/archive_status) at every
  sample; "max_ready" is the largest.
"""
import argparse
import json
import os
import signal
import time

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    """(ppid, utime + stime + cutime + cstime in ticks), or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    # after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--marker", action="append", default=[])
    ap.add_argument("--exclude-tree", type=int, default=0)
    ap.add_argument("--ready-dir")
    ap.add_argument("--interval", type=float, default=0.1)
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    best_cpu = {}       # root pid -> max ticks seen
    peak_rss = 0
    max_ready = 0
    samples = 0
    roots_seen = {}     # root pid -> command line
    me = os.getpid()
    while True:
        samples += 1
        procs = {}
        for d in (os.listdir("/proc") if a.marker else ()):  # nothing to scan without a marker
            if d.isdigit():
                st = stat(int(d))
                if st:
                    procs[int(d)] = st
        children = {}
        for pid, (ppid, _) in procs.items():
            children.setdefault(ppid, []).append(pid)

        def tree(pid):
            out, todo = [], [pid]
            while todo:
                p = todo.pop()
                out.append(p)
                todo.extend(children.get(p, []))
            return out

        excluded = set(tree(a.exclude_tree)) if a.exclude_tree else set()
        matched = set()
        if a.marker:
            for pid in procs:
                if pid == me or pid in excluded:
                    continue
                c = cmdline(pid)
                if any(m in c for m in a.marker):
                    matched.add(pid)
        rss_total = 0
        for pid in matched:
            if procs[pid][0] in matched:
                continue  # not a root: counted in its root's tree
            roots_seen.setdefault(pid, cmdline(pid)[:200])
            t = tree(pid)
            ticks = sum(procs[p][1] for p in t if p in procs)
            best_cpu[pid] = max(best_cpu.get(pid, 0), ticks)
            rss_total += sum(rss_kb(p) for p in t)
        peak_rss = max(peak_rss, rss_total)
        if a.ready_dir:
            try:
                n = sum(1 for f in os.listdir(a.ready_dir) if f.endswith(".ready"))
            except OSError:
                n = 0
            max_ready = max(max_ready, n)
        if stop:
            break
        time.sleep(a.interval)

    with open(a.out, "w") as f:
        json.dump({"cpu_seconds": round(sum(best_cpu.values()) / TICK, 2), "peak_rss_kb": peak_rss,
                   "max_ready": max_ready, "samples": samples,
                   "roots": [{"pid": p, "cmd": c} for p, c in roots_seen.items()]}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
