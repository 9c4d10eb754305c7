#!/usr/bin/env bash
# WAL archiving capacity, sustained load and recovery replay (issue 11), with run.sh's helpers.
# Prints a table and, last, one JSON line with the ratios; writes bench/results/archive.json.
#
#   bench/archive.sh [--segments N] [--load-seconds S] [--load-scale N] [--phases LIST]
#                    [--load-methods LIST] [--recovery-compress gzip|zstd] [--keep]
#   bench/run.sh --archive [same options]
#
#   --segments N       WAL segments in the backlog every method drains, and replayed by every
#                      recovery row (default 200; iterate with 20)
#   --load-seconds S   length of the pgbench + bulk-insert load per method (default 60)
#   --load-scale N     pgbench scale of the load database (default 20)
#   --phases LIST      any of capacity,load,recovery (default all three; recovery needs capacity)
#   --load-methods L   methods under load (default spec,sync_gzip,sync_zstd,async_gzip,async_zstd)
#   --capacity-methods L  methods that drain the backlog (default all: spec,sync_gzip,sync_zstd,
#                      async_gzip,async_zstd,sealed_zstd,pgbr_gz,pgbr_zst; sealed_X: the async
#                      archiver with a generated encryption key)
#   --capacity-rounds N  drains per capacity method, interleaved and counterbalanced (odd rounds in
#                      the given order, even rounds reversed); seconds and rates are medians
#                      (default 1; an even number, 4, for a figure one method is compared with another by)
#   --recovery-compress C  compression of pgbackup's archive the recovery rows read (default gzip,
#                      pgbackup's default; pgBackRest's archive is gz then, zst for zstd)
#   --keep             keep the work directory
#
# Environment: as run.sh (PG_BIN, BENCH_TMP, BENCH_USER), plus PG_BACKUP_ARCHIVER_WORKERS, passed
# to the async archiver's 'pgbackup init' when set. bench/README.md describes every row.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
segments_wanted=200
# Files the archiver archives before its running rate is measured (256 MiB of WAL: its JVM start-up and JIT warm-up).
WARM_FILES=16
# Seconds between a drain's set-up and its timing (see drain: free page reporting).
SETTLE_SECONDS=${BENCH_SETTLE_SECONDS:-4}
cap_rounds=1
load_seconds=60
load_scale=20
phases=capacity,load,recovery
load_methods=spec,sync_gzip,sync_zstd,async_gzip,async_zstd
rec_c=gzip
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --segments) segments_wanted=$2; shift 2 ;;
    --load-seconds) load_seconds=$2; shift 2 ;;
    --load-scale) load_scale=$2; shift 2 ;;
    --phases) phases=$2; shift 2 ;;
    --load-methods) load_methods=$2; shift 2 ;;
    --capacity-methods) cap_methods_arg=$2; shift 2 ;;
    --capacity-rounds) cap_rounds=$2; shift 2 ;;
    --recovery-compress) rec_c=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "archive.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for v in "$segments_wanted" "$load_seconds" "$load_scale" "$cap_rounds"; do
  [[ $v =~ ^[0-9]+$ ]] || { echo "archive.sh: --segments, --load-seconds and --load-scale take numbers" >&2; exit 2; }
done
case $rec_c in gzip) rec_t=gz ;; zstd) rec_t=zst ;; *) echo "archive.sh: --recovery-compress gzip|zstd" >&2; exit 2 ;; esac
phase() { [[ ,$phases, == *,$1,* ]]; }
started_at=$(date +%s)

bench_name=archive.sh
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
command -v python3 >/dev/null || { echo "archive.sh: python3 is needed for bench/procwatch.py" >&2; exit 1; }
seg_bytes=$((16 * 1024 * 1024))
rp=bench_target
load_start=$(cut -d' ' -f1 /proc/loadavg)

have_pgbackup=false
build_cli && have_pgbackup=true

# ---------------------------------------------------------------- small helpers

# ticks PID: utime+stime+cutime+cstime of PID (clock ticks), or 0 when gone. CUTIME/CSTIME hold
# what the archive_command processes PostgreSQL's archiver reaped have used, transitively.
child_ticks() { # PID: cutime + cstime (reaped children)
  local s
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo $(( ${14} + ${15} ))
}
clk_tck=$(getconf CLK_TCK)
count_ready() { # DIR: number of *.ready files (builtins only)
  local f=("$1"/pg_wal/archive_status/*.ready)
  # Unmatched, the pattern stays as it is (not -e on f[0]: it may become .done meanwhile).
  [ "${f[0]}" != "$1/pg_wal/archive_status/*.ready" ] && echo "${#f[@]}" || echo 0
}
mbps() { awk -v n="$1" -v s="$2" -v b="$seg_bytes" 'BEGIN { if (s > 0) printf "%.1f", n * b / 1e6 / s; else print "null" }'; }
per() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b > 0) printf "%.*f", d, a / b; else print "null" }'; }

# init_repo DIR COMPRESS ARCHIVER [FETCH_AHEAD]: 'pgbackup init' of a repository as the cluster user,
# with PG_BACKUP_ARCHIVER (and PG_BACKUP_FETCH_AHEAD when given). Fails with INIT_ERROR set.
init_repo() {
  local dir=$1 c=$2 mode=$3 fetch=${4:-}
  [ -d "$dir" ] || mkdir_pg "$dir"
  pgb_env "$dir" "$c"
  local e=(PG_BACKUP_ARCHIVER="$mode")
  [ -n "$fetch" ] && e+=(PG_BACKUP_FETCH_AHEAD="$fetch")
  [ -n "${INIT_KEY:-}" ] && e+=(PG_BACKUP_ENCRYPTION_KEY_FILE="$INIT_KEY")
  [ -n "${PG_BACKUP_ARCHIVER_WORKERS:-}" ] && e+=(PG_BACKUP_ARCHIVER_WORKERS="$PG_BACKUP_ARCHIVER_WORKERS")
  INIT_ERROR=
  if ! as_pg env "${e[@]}" "${pgb[@]}" init >"$dir.init.log" 2>&1; then
    INIT_ERROR="init failed: $(tail -1 "$dir.init.log" | cut -c1-140)"; return 1
  fi
  [ -x "$dir/scripts/archive_wal.sh" ] || { INIT_ERROR="init wrote no scripts/archive_wal.sh"; return 1; }
}

# init_async_repo DIR COMPRESS: init with PG_BACKUP_ARCHIVER=sync, then =async. This build has the
# async archiver only if the second archive_wal.sh differs from the first (init re-renders it on
# a configuration change); otherwise INIT_ERROR says why the row is n/a.
init_async_repo() {
  local dir=$1 c=$2
  init_repo "$dir" "$c" sync || return 1
  cp "$dir/scripts/archive_wal.sh" "$dir.sync-script"
  init_repo "$dir" "$c" async || return 1
  if cmp -s "$dir/scripts/archive_wal.sh" "$dir.sync-script"; then
    INIT_ERROR="PG_BACKUP_ARCHIVER=async not in this build (archive_wal.sh as with sync)"; return 1
  fi
}

# pgBackRest with archive-async=y, process-max=2, spool in the work directory; stanza "bench".
pgbr_async_conf() { # NAME TYPE PGDATA
  local name=$1 type=$2 pgdata=$3
  as_pg mkdir -p "$work/pgbr/log" "$work/pgbr/lock" "$work/pgbr/spool-$name"
  cat >"$work/pgbr/$name.conf" <<EOF
[global]
repo1-path=$work/pgbr/$name
repo1-retention-full=9999
process-max=2
archive-async=y
spool-path=$work/pgbr/spool-$name
compress-type=$type
log-path=$work/pgbr/log
lock-path=$work/pgbr/lock
log-level-console=warn
log-level-stderr=warn
log-level-file=info

[bench]
pg1-path=$pgdata
pg1-port=$port
pg1-socket-path=$sock
pg1-user=postgres
EOF
  chmod 644 "$work/pgbr/$name.conf"
}

# archive_command for METHOD into DEST (a directory under the work directory); sets ARCH_CMD,
# ARCH_DEST (what to measure the size of), ARCH_MARKER (the detached processes' command-line
# marker, for procwatch) or fails with INIT_ERROR. Untimed. PGDATA is $data.
setup_method() { # METHOD DEST
  local m=$1 dest=$2
  ARCH_MARKER=; INIT_ERROR=
  rm -rf "$dest" "$dest".*
  case $m in
    spec)
      mkdir_pg "$dest"
      make_spec_script "$dest.sh" "$dest"
      ARCH_CMD="$dest.sh %p %f"; ARCH_DEST=$dest ;;
    sync_*)
      $have_pgbackup || { INIT_ERROR="pgbackup not built"; return 1; }
      init_repo "$dest" "${m#sync_}" sync || return 1
      ARCH_CMD="$dest/scripts/archive_wal.sh %p %f"; ARCH_DEST=$dest/wal_archive ;;
    async_*|sealed_*)
      $have_pgbackup || { INIT_ERROR="pgbackup not built"; return 1; }
      local key=
      if [[ $m == sealed_* ]]; then
        # Encryption at rest (issue 17): the same archiver, sealing with a generated key file.
        key=$work/bench.key
        pgb_env "$dest"
        [ -f "$key" ] || as_pg "${pgb[@]}" key generate --out "$key" >/dev/null 2>"$dest.key.log" \
          || { INIT_ERROR="key generate failed: $(tail -1 "$dest.key.log" | cut -c1-140)"; return 1; }
      fi
      INIT_KEY=$key init_async_repo "$dest" "${m#*_}" || return 1
      ARCH_CMD="$dest/scripts/archive_wal.sh %p %f"; ARCH_DEST=$dest/wal_archive
      ARCH_MARKER=$data ;; # the archiver runs as 'pgbackup archiver --pgdata PGDATA'
    pgbr_*)
      [ -n "$pgbackrest_bin" ] || { INIT_ERROR="pgBackRest not installed"; return 1; }
      local name; name=$(basename "$dest")
      pgbr_async_conf "$name" "${m#pgbr_}" "$data"
      rm -rf "$work/pgbr/$name"
      if ! pgbr "$name" stanza-create >"$dest.stanza.log" 2>&1; then
        INIT_ERROR="stanza-create failed: $(tail -1 "$dest.stanza.log" | cut -c1-140)"; return 1
      fi
      ARCH_CMD="$pgbackrest_bin --config=$work/pgbr/$name.conf --stanza=bench archive-push %p"
      ARCH_DEST=$work/pgbr/$name/archive
      ARCH_MARKER="--config=$work/pgbr/$name.conf" ;;
    *) INIT_ERROR="unknown method $m"; return 1 ;;
  esac
}
method_label() {
  case $1 in
    spec) echo "spec script (gzip -c > tmp && mv)" ;;
    sync_*) echo "archive_wal.sh sync (${1#sync_})" ;;
    async_*) echo "pgbackup archiver async (${1#async_})" ;;
    sealed_*) echo "pgbackup archiver async, encrypted (${1#sealed_})" ;;
    pgbr_*) echo "pgbackrest archive-push async pm2 (${1#pgbr_})" ;;
  esac
}

# procwatch start|stop: bench/procwatch.py in the background (detached helpers' CPU and RSS,
# the .ready count); stop leaves its JSON in $PW_OUT and ends the helpers it saw (by pid).
procwatch_start() { # OUT MARKER READY_DIR
  PW_OUT=$1
  local args=(--out "$1" --interval 0.1 --exclude-tree "$(head -1 "$data/postmaster.pid")")
  [ -n "$2" ] && args+=("--marker=$2") # one word: a marker may begin with --
  [ -n "$3" ] && args+=("--ready-dir=$3")
  python3 "$repo/bench/procwatch.py" "${args[@]}" &
  PW_PID=$!
}
procwatch_stop() {
  kill "$PW_PID" 2>/dev/null || true
  wait "$PW_PID" 2>/dev/null || true
}
pw_get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$PW_OUT" "$1" 2>/dev/null || echo null; }
# end_helpers MARKER: the detached helpers a method left running (the async archiver waits for
# its idle timeout), ended by pid after their figures were taken, so they never overlap the next row.
end_helpers() {
  local marker=$1 p c i
  [ -n "$marker" ] || return 0
  for p in $(python3 -c 'import json,sys; print(" ".join(str(r["pid"]) for r in json.load(open(sys.argv[1]))["roots"]))' "$PW_OUT" 2>/dev/null); do
    c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)
    [[ $c == *"$marker"* ]] || continue
    kill "$p" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
}

pg_start() { # DATA LOG
  pg_dirs+=("$1")
  as_pg "$bindir/pg_ctl" -D "$1" -l "$2" -w start >/dev/null
}
pg_stop() { as_pg "$bindir/pg_ctl" -D "$1" -m "${2:-fast}" -w stop >/dev/null 2>&1 || true; }

# ================================================================ capacity: drain a backlog

declare -A CAP=() CAP_NOTE=() PAIR=()
cur_round=1
IFS=, read -r -a cap_methods <<<"${cap_methods_arg:-spec,sync_gzip,sync_zstd,async_gzip,async_zstd,sealed_zstd,pgbr_gz,pgbr_zst}"
pristine=$work/pristine
backlog_segments=0
have_pristine=false

make_backlog() {
  extra_conf="max_wal_size = '$(( (segments_wanted + 64) * 16 * 2 ))MB'
min_wal_size = '80MB'
wal_keep_size = 0
checkpoint_timeout = '1d'
wal_recycle = off
log_min_messages = info"
  data=$work/src
  start_cluster
  psql_pg -c "CREATE TABLE bulk (id bigint, a text, b text)" -c "CHECKPOINT"
  # Pause: from here on every finished segment stays .ready.
  psql_pg -c "ALTER SYSTEM SET archive_command = '/bin/false'" -c "SELECT pg_reload_conf()" >/dev/null
  psql_pg -c "SELECT pg_switch_wal()" >/dev/null
  # The recovery rows' one backup, in its own repository, before the backlog's WAL.
  rec_repo=$work/rec
  REC_ID=
  if $have_pgbackup && phase recovery; then
    if init_repo "$rec_repo" "$rec_c" sync; then
      pgb_env "$rec_repo" "$rec_c"
      if as_pg "${pgb[@]}" backup --checkpoint fast >"$work/rec-backup.log" 2>&1; then
        REC_ID=$(newest_backup "$rec_repo")
      else
        REC_ERROR="backup failed: $(tail -1 "$work/rec-backup.log" | cut -c1-140)"; log "recovery: $REC_ERROR"
      fi
    else
      REC_ERROR=$INIT_ERROR
    fi
  fi
  local start_lsn n=0
  start_lsn=$(psql_pg -c "SELECT pg_current_wal_lsn()")
  log "capacity: writing $segments_wanted segments of bulk-insert WAL (archiving paused)"
  while :; do
    n=$(psql_pg -c "SELECT floor(pg_wal_lsn_diff(pg_current_wal_lsn(), '$start_lsn') / $seg_bytes)::int")
    [ "$n" -ge "$segments_wanted" ] && break
    psql_pg -c "INSERT INTO bulk SELECT g, md5(g::text), md5((g * 7)::text) || g FROM generate_series(1, 400000) g"
  done
  # The restore point: 1000 marker rows before it, 1000 after (recovery must stop between them).
  psql_pg -c "DROP TABLE bulk" -c "CREATE TABLE bench_marker AS SELECT generate_series(1, 1000) AS i" \
    -c "SELECT pg_create_restore_point('$rp')" >/dev/null
  psql_pg -c "INSERT INTO bench_marker SELECT generate_series(1001, 2000)" -c "SELECT pg_switch_wal()" >/dev/null
  pg_stop "$data"
  mv "$data" "$pristine"
  local f=("$pristine"/pg_wal/archive_status/*.ready)
  backlog_files=${#f[@]}
  backlog_segments=$(ls "$pristine/pg_wal/archive_status" | grep -cE '^[0-9A-F]{24}\.ready$' || true)
  backlog_last=$(ls "$pristine/pg_wal/archive_status" | grep -E '^[0-9A-F]{24}\.ready$' | sort | tail -1)
  backlog_last=${backlog_last%.ready}
  log "backlog: $backlog_segments segments ($backlog_files .ready files), last $backlog_last"
  have_pristine=true
}

# work_copy DEST: PGDATA from the pristine copy. Every finished (.ready) WAL file is a hard link
# (PostgreSQL never writes into one, and wal_recycle = off unlinks instead of reusing it); the
# rest is copied.
work_copy() {
  local d=$1 f n
  rm -rf "$d"; mkdir -p -m 700 "$d"; chown "$pg_user" "$d"
  tar -C "$pristine" --exclude='./pg_wal/[0-9A-F]*' -cf - . | tar -C "$d" -xpf -
  for f in "$pristine"/pg_wal/[0-9A-F]*; do
    n=${f##*/}
    if [ -e "$pristine/pg_wal/archive_status/$n.ready" ]; then ln "$f" "$d/pg_wal/$n"; else cp -p "$f" "$d/pg_wal/$n"; fi
  done
}

# drain METHOD: restore the pristine copy, start it (archiving still paused), set the method up,
# then switch its archive_command on and time until no .ready is left and pg_stat_archiver's
# last_archived_wal is the backlog's last segment.
drain() {
  local m=$1 dest=$work/cap-$m t0 t1 secs apid fg0 fg1 left last failed0 failed1 timeout
  data=$work/data-$m
  work_copy "$data"
  pg_start "$data" "$data.log" || { CAP_NOTE[$m]="start failed"; return 1; }
  if ! setup_method "$m" "$dest"; then CAP_NOTE[$m]=$INIT_ERROR; pg_stop "$data" immediate; rm -rf "$data"; return 1; fi
  # Untimed: the previous drain's archive (~1.2 GB) and this copy written back now, not during this drain.
  sync
  # Untimed: on a VM with free page reporting (virtio-balloon; Linux reports freed memory ~2 s after
  # it is freed, and the host discards it), a page first touched after its report costs a host
  # fault, charged to whatever copies into it. Without this wait a drain starting right after
  # the cleanup writes its archive into freshly freed, not yet reported pages, and whichever drain
  # found fewer of them paid 0.4-1.4 CPU s more in the page-cache copy (perf: the second drain of
  # a pair, sealing or not). Waiting until the cleanup's memory is reported gives every drain the same start.
  sleep "$SETTLE_SECONDS"
  apid=$(psql_pg -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'")
  failed0=$(psql_pg -c "SELECT failed_count FROM pg_stat_archiver")
  fg0=$(child_ticks "$apid")
  rm -f "$dest.rss"
  procwatch_start "$dest.pw.json" "$ARCH_MARKER" ""
  # /usr/bin/time around every call: peak RSS per call (it adds one fork+exec, ~1 ms, to every method).
  local cmd=$ARCH_CMD
  [ -n "$timer" ] && cmd="$timer -a -o $dest.rss -f %M $ARCH_CMD"
  log "capacity: $m draining $backlog_files files"
  timeout=$((backlog_segments * 5 + 120))
  t0=$(now)
  psql_pg -c "ALTER SYSTEM SET archive_command = '${cmd//\'/\'\'}'" -c "SELECT pg_reload_conf()" >/dev/null
  local ready t_warm= warm_done=0
  while :; do
    ready=$(count_ready "$data")
    # The running archiver's rate: from when the first WARM_FILES files are archived (its JVM and JIT
    # warm-up behind it) to the end.
    if [ -z "$t_warm" ] && [ "$ready" -le $((backlog_files - WARM_FILES)) ]; then
      t_warm=$(now); warm_done=$((backlog_files - ready))
    fi
    if [ "$ready" = 0 ]; then
      last=$(psql_pg -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
      if [ -n "$last" ] && [[ ! $last < $backlog_last ]]; then break; fi
    fi
    if awk -v s="$t0" -v e="$(now)" -v t="$timeout" 'BEGIN { exit !(e - s > t) }'; then
      left=$(count_ready "$data"); break
    fi
    sleep 0.05
  done
  t1=$(now)
  fg1=$(child_ticks "$apid")
  failed1=$(psql_pg -c "SELECT failed_count FROM pg_stat_archiver")
  procwatch_stop
  pg_stop "$data" immediate
  end_helpers "$ARCH_MARKER"
  if [ -n "${left:-}" ]; then
    CAP_NOTE[$m]="timeout after ${timeout} s, $left .ready left; $(grep -E 'archive command failed|ERROR|FATAL' "$data.log" | tail -1 | cut -c1-120)"
    rm -rf "$data"; return 1
  fi
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  local fg_cpu det_cpu det_rss fg_rss bytes
  fg_cpu=$(awk -v a="$fg0" -v b="$fg1" -v t="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / t }')
  det_cpu=$(pw_get cpu_seconds); det_rss=$(pw_get peak_rss_kb)
  fg_rss=$( (grep -E '^[0-9]+$' "$dest.rss" 2>/dev/null || true) | sort -n | tail -1)
  bytes=$(du -sb "$ARCH_DEST" | cut -f1)
  CAP[$m.seconds]=$secs
  CAP[$m.segs_per_s]=$(per "$backlog_segments" "$secs")
  if [ -n "$t_warm" ] && [ "$warm_done" -lt "$backlog_files" ]; then
    CAP[$m.running_segs_per_s]=$(per "$((backlog_files - warm_done))" "$(awk -v a="$t_warm" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  fi
  ROUND_SECS[$m]="${ROUND_SECS[$m]:-} $secs"
  ROUND_RUNNING[$m]="${ROUND_RUNNING[$m]:-} ${CAP[$m.running_segs_per_s]:-}"
  PAIR[$m.$cur_round.secs]=$secs; PAIR[$m.$cur_round.running]=${CAP[$m.running_segs_per_s]:-}
  CAP[$m.mb_per_s]=$(mbps "$backlog_segments" "$secs")
  CAP[$m.cpu_per_seg]=$(per "$(awk -v a="$fg_cpu" -v b="$det_cpu" 'BEGIN { print a + (b == "None" || b == "null" ? 0 : b) }')" "$backlog_segments" 3)
  CAP[$m.cpu_fg]=$fg_cpu; CAP[$m.cpu_detached]=$det_cpu
  # cores busy on average: total CPU / wall; 2 would be a saturated 2-core machine
  CAP[$m.cores_busy]=$(per "$(awk -v a="$fg_cpu" -v b="$det_cpu" 'BEGIN { print a + (b == "None" || b == "null" ? 0 : b) }')" "$secs" 2)
  CAP[$m.peak_rss_kb]=$(maxof "${fg_rss:-0}" "${det_rss:-0}")
  CAP[$m.bytes]=$bytes
  CAP[$m.failed]=$((failed1 - failed0))
  CAP_NOTE[$m]="archive_command calls: ${fg_cpu} CPU s; detached helpers: ${det_cpu} CPU s; $((failed1 - failed0)) failed attempts; stored $((bytes / 1048576)) MiB"
  rm -rf "$data"
}

if phase capacity || phase recovery; then
  make_backlog
  declare -A ROUND_SECS=() ROUND_RUNNING=()
  for r in $(seq "$cap_rounds"); do
    cur_round=$r
    # Counterbalanced: even rounds take the methods in reverse order, so that no method always drains
    # right after the same other one (measured: the second of two drains ran up to ~20% slower).
    order=("${cap_methods[@]}")
    if [ $((r % 2)) = 0 ]; then
      order=(); for ((i = ${#cap_methods[@]} - 1; i >= 0; i--)); do order+=("${cap_methods[i]}"); done
    fi
    for m in "${order[@]}"; do
      [ "$r" -gt 1 ] && [ -z "${ROUND_SECS[$m]:-}" ] && continue # failed in round 1
      drain "$m" || log "capacity: $m n/a: ${CAP_NOTE[$m]}"
    done
  done
  if [ "$cap_rounds" -gt 1 ]; then
    for m in "${cap_methods[@]}"; do
      [ -n "${CAP[$m.seconds]:-}" ] || continue
      # shellcheck disable=SC2086
      CAP[$m.seconds]=$(median ${ROUND_SECS[$m]})
      CAP[$m.segs_per_s]=$(per "$backlog_segments" "${CAP[$m.seconds]}")
      CAP[$m.mb_per_s]=$(mbps "$backlog_segments" "${CAP[$m.seconds]}")
      # shellcheck disable=SC2086
      [ -n "${ROUND_RUNNING[$m]// /}" ] && CAP[$m.running_segs_per_s]=$(median ${ROUND_RUNNING[$m]})
      CAP_NOTE[$m]="${CAP_NOTE[$m]} (last round); median of $cap_rounds rounds:${ROUND_SECS[$m]} s"
    done
  fi
fi

# The two-core ceiling: CPU seconds of one core to compress one real segment of the backlog.
declare -A CEIL=()
ceiling() { # KEY CMD...
  local k=$1 i out=$work/ceil.out secs=() seg; shift
  command -v "$1" >/dev/null || return 0
  seg=$(ls "$pristine"/pg_wal/ | grep -E '^[0-9A-F]{24}$' | sort | sed -n "$((backlog_segments / 2 + 1))p")
  for i in 1 2 3 4 5; do
    /usr/bin/time -f '%U %S' -o "$work/ceil.time" "$@" <"$pristine/pg_wal/$seg" >"$out"
    secs+=("$(awk '{ print $1 + $2 }' "$work/ceil.time")")
  done
  CEIL[$k.cpu]=$(median "${secs[@]}")
  CEIL[$k.bytes]=$(stat -c %s "$out")
  CEIL[$k.segs_per_s]=$(per "$cores" "${CEIL[$k.cpu]}" 1)
}
if $have_pristine && [ -n "$timer" ]; then
  ceiling zstd1 zstd -q -1 -c
  ceiling pigz1 pigz -1 -p 1 -c
  ceiling gzip1 gzip -1 -c
fi

# ================================================================ recovery: replay to a named point

declare -A REC=() REC_NOTE=()
rec_methods=(spec today fetch_ahead pgbackup_restore pgbr_async)
rsock=$work/run-restore
mkdir -p "$rsock" && chown "$pg_user" "$rsock" 2>/dev/null || true

# replay METHOD: from the one backup REC_ID, replay the backlog's WAL to '$rp', until promoted.
replay() {
  local m=$1 d=$work/restore-$1 t0 t1 t2 p i state rc_cmd="" n got
  rm -rf "$d" "$d.log"
  case $m in
    spec) [ -n "${CAP[spec.seconds]:-}" ] || { REC_NOTE[$m]="no spec archive (capacity row n/a)"; return 1; }
          rc_cmd="gzip -dc $work/cap-spec/%f.gz > \"%p\"" ;;
    today) init_repo "$rec_repo" "$rec_c" sync 0 || { REC_NOTE[$m]=$INIT_ERROR; return 1; }
           cp "$rec_repo/scripts/restore_wal.sh" "$work/restore_wal.today"
           rc_cmd="$rec_repo/scripts/restore_wal.sh %f %p" ;;
    fetch_ahead) init_repo "$rec_repo" "$rec_c" sync || { REC_NOTE[$m]=$INIT_ERROR; return 1; }
           if cmp -s "$rec_repo/scripts/restore_wal.sh" "$work/restore_wal.today"; then
             REC_NOTE[$m]="no fetch-ahead in this build (restore_wal.sh as with PG_BACKUP_FETCH_AHEAD=0)"; return 1
           fi
           rc_cmd="$rec_repo/scripts/restore_wal.sh %f %p" ;;
    pgbackup_restore) init_repo "$rec_repo" "$rec_c" sync || { REC_NOTE[$m]=$INIT_ERROR; return 1; } ;;
    pgbr_async) [ -n "${CAP[pgbr_$rec_t.seconds]:-}" ] || { REC_NOTE[$m]="no pgBackRest $rec_t archive (capacity row n/a)"; return 1; }
          # the capacity run's repository and configuration, with a fresh spool for archive-get
          rm -rf "$work/pgbr/spool-cap-pgbr_$rec_t"; as_pg mkdir -p "$work/pgbr/spool-cap-pgbr_$rec_t"
          rc_cmd="$pgbackrest_bin --config=$work/pgbr/cap-pgbr_$rec_t.conf --stanza=bench --pg1-path=$d archive-get %f \"%p\"" ;;
  esac
  log "recovery: $m"
  t0=$(now)
  if [ "$m" = pgbackup_restore ]; then
    pgb_env "$rec_repo" "$rec_c"
    if ! as_pg "${pgb[@]}" restore "$REC_ID" --target-name "$rp" --target-action promote --target-dir "$d" >"$d.restore.log" 2>&1; then
      REC_NOTE[$m]="restore failed: $(tail -1 "$d.restore.log" | cut -c1-140)"; return 1
    fi
  else
    # the same backup's tars, extracted as the spec's procedure does
    as_pg mkdir -m 700 "$d"
    as_pg tar -xf "$rec_repo/base/$REC_ID/$(ls "$rec_repo/base/$REC_ID" | grep '^base\.tar')" -C "$d"
    as_pg tar -xf "$rec_repo/base/$REC_ID/$(ls "$rec_repo/base/$REC_ID" | grep '^pg_wal\.tar')" -C "$d/pg_wal"
    printf "restore_command = '%s'\nrecovery_target_name = '%s'\nrecovery_target_action = 'promote'\n" \
      "${rc_cmd//\'/\'\'}" "$rp" >>"$d/postgresql.auto.conf"
    as_pg touch "$d/recovery.signal"
  fi
  t1=$(now)
  p=$(free_port)
  pg_dirs+=("$d")
  as_pg "$bindir/pg_ctl" -D "$d" -l "$d.log" -W \
    -o "-c port=$p -c listen_addresses='' -c unix_socket_directories='$rsock' -c archive_mode=off -c log_min_messages=info" start >/dev/null
  state=
  for i in $(seq 300000); do
    state=$(psql_at "$p" "$rsock" -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
    [ "$state" = f ] && break
    if [ "$((i % 20))" = 0 ] && ! as_pg "$bindir/pg_ctl" -D "$d" status >/dev/null 2>&1; then
      REC_NOTE[$m]="server stopped: $(grep -E 'FATAL|PANIC' "$d.log" | tail -1 | cut -c1-140)"; rm -rf "$d"; return 1
    fi
    sleep 0.02
  done
  t2=$(now)
  got=$(psql_at "$p" "$rsock" -c "SELECT count(*) FROM bench_marker" 2>/dev/null || echo "?")
  pg_stop "$d" immediate
  # WAL segments restore_command delivered (PostgreSQL logs each one), distinct names.
  n=$(grep -oE 'restored log file "[0-9A-F]{24}" from archive' "$d.log" | sort -u | wc -l)
  rm -rf "$d"
  [ "$state" = f ] || { REC_NOTE[$m]="not promoted"; return 1; }
  [ "$got" = 1000 ] || { REC_NOTE[$m]="wrong data: bench_marker has $got rows, expected 1000"; return 1; }
  REC[$m.seconds]=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.2f", b - a }')
  REC[$m.prep]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  REC[$m.segments]=$n
  REC[$m.mb_per_s]=$(mbps "$n" "${REC[$m.seconds]}")
  REC_NOTE[$m]="restore step ${REC[$m.prep]} s, then start+replay+promote"
}
if phase recovery; then
  if [ -z "${REC_ID:-}" ]; then
    for m in "${rec_methods[@]}"; do REC_NOTE[$m]=${REC_ERROR:-pgbackup not built}; done
  else
    # pgbackup's archive for the recovery rows: the segments the sync (else async) method of the
    # same compression stored, hard-linked into the backup's repository.
    src_arch=
    for s in "sync_$rec_c" "async_$rec_c"; do
      [ -n "${CAP[$s.seconds]:-}" ] && { src_arch=$work/cap-$s/wal_archive; break; }
    done
    if [ -z "$src_arch" ]; then
      for m in today fetch_ahead pgbackup_restore; do REC_NOTE[$m]="no pgbackup $rec_c archive (capacity rows n/a)"; done
      rec_run=(spec pgbr_async)
    else
      cp -al "$src_arch/." "$rec_repo/wal_archive/"
      rec_run=("${rec_methods[@]}")
    fi
    for m in "${rec_run[@]}"; do replay "$m" || log "recovery: $m n/a: ${REC_NOTE[$m]}"; done
    # every method must have replayed the same WAL
    counts=$(for m in "${rec_methods[@]}"; do if [ -n "${REC[$m.segments]:-}" ]; then echo "${REC[$m.segments]}"; fi; done | sort -u | tr '\n' ' ')
    rec_same_wal=true
    [ "$(wc -w <<<"$counts")" -le 1 ] || { rec_same_wal=false; log "recovery: methods replayed different segment counts: $counts"; }
  fi
fi
rm -rf "$pristine"

# ================================================================ sustained load

declare -A LOAD=() LOAD_NOTE=()
IFS=, read -r -a load_list <<<"$load_methods"
load_one() { # METHOD
  local m=$1 dest=$work/load-$m t0 secs lsn0 lsn1 pgb_pid bw_pid drain_s
  setup_method "$m" "$dest" || { LOAD_NOTE[$m]=$INIT_ERROR; return 1; }
  set_archive_command "$ARCH_CMD"
  wait_archived || { LOAD_NOTE[$m]="initial switch not archived"; return 1; }
  psql_pg -c "TRUNCATE bulk" -c "CHECKPOINT"
  wait_archived || true
  procwatch_start "$dest.pw.json" "$ARCH_MARKER" "$data/pg_wal/archive_status"
  lsn0=$(psql_pg -c "SELECT pg_current_wal_lsn()")
  t0=$(now)
  log "load: $m, pgbench -c 4 -j 2 -T $load_seconds + bulk insert"
  as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -c 4 -j 2 -T "$load_seconds" postgres >"$dest.pgbench.log" 2>&1 &
  pgb_pid=$!
  ( while kill -0 "$pgb_pid" 2>/dev/null; do
      psql_pg -c "INSERT INTO bulk SELECT g, md5(g::text), md5((g * 7)::text) || g FROM generate_series(1, 50000) g" || true
    done ) &
  bw_pid=$!
  wait "$pgb_pid" || true
  wait "$bw_pid" || true
  secs=$(since "$t0")
  lsn1=$(psql_pg -c "SELECT pg_current_wal_lsn()")
  local d0; d0=$(now)
  wait_archived || true
  drain_s=$(since "$d0")
  procwatch_stop
  end_helpers "$ARCH_MARKER"
  LOAD[$m.max_ready]=$(pw_get max_ready)
  LOAD[$m.wal_mb_per_s]=$(psql_pg -c "SELECT round((pg_wal_lsn_diff('$lsn1', '$lsn0') / 1e6 / $secs)::numeric, 1)")
  LOAD[$m.tps]=$(grep -oE 'tps = [0-9.]+' "$dest.pgbench.log" | head -1 | awk '{ print $3 }')
  LOAD_NOTE[$m]="${secs} s of load, ${LOAD[$m.wal_mb_per_s]} MB/s of WAL, pgbench ${LOAD[$m.tps]:-?} tps; caught up ${drain_s} s after the load"
  rm -rf "$dest"
}
if phase load; then
  data=$work/loaddata
  extra_conf="max_wal_size = '2GB'
wal_keep_size = 0
checkpoint_timeout = '5min'"
  start_cluster
  pgbench_init "$load_scale"
  psql_pg -c "CREATE TABLE bulk (id bigint, a text, b text)"
  for m in "${load_list[@]}"; do
    load_one "$m" || log "load: $m n/a: ${LOAD_NOTE[$m]}"
  done
  pg_stop "$data"
fi

# ================================================================ report and ratios

jn() { num "${1:-}" && echo "$1" || echo null; } # a number, else null
best_of() { local b=null v; for v in "$@"; do num "$v" || continue; { [ "$b" = null ] || awk -v a="$v" -v b="$b" 'BEGIN { exit !(a > b) }'; } && b=$v; done; echo "$b"; }
worst_of() { local w=null v; for v in "$@"; do num "$v" || continue; { [ "$w" = null ] || awk -v a="$v" -v b="$w" 'BEGIN { exit !(a > b) }'; } && w=$v; done; echo "$w"; }

best_archiver=$(best_of "${CAP[async_gzip.segs_per_s]:-}" "${CAP[async_zstd.segs_per_s]:-}")
archive_capacity_vs_seed_script=$(ratio "$best_archiver" "${CAP[spec.segs_per_s]:-}")
archive_capacity_vs_pgbackrest_async=$(ratio "${CAP[async_zstd.segs_per_s]:-}" "${CAP[pgbr_zst.segs_per_s]:-}")
sync_capacity_vs_seed_script=$(ratio "$(best_of "${CAP[sync_gzip.segs_per_s]:-}" "${CAP[sync_zstd.segs_per_s]:-}")" "${CAP[spec.segs_per_s]:-}")
sync_zstd_vs_pgbackrest_async=$(ratio "${CAP[sync_zstd.segs_per_s]:-}" "${CAP[pgbr_zst.segs_per_s]:-}")
archiver_zstd_pct_of_ceiling=$(ratio "$(awk -v a="${CAP[async_zstd.segs_per_s]:-x}" 'BEGIN { if (a + 0 > 0) print a * 100 }')" "${CEIL[zstd1.segs_per_s]:-}" 0)
archiver_gzip_pct_of_ceiling=$(ratio "$(awk -v a="${CAP[async_gzip.segs_per_s]:-x}" 'BEGIN { if (a + 0 > 0) print a * 100 }')" "${CEIL[pigz1.segs_per_s]:-}" 0)
max_ready_backlog=$(worst_of "${LOAD[async_gzip.max_ready]:-}" "${LOAD[async_zstd.max_ready]:-}")
# Encryption's cost: plain archiver seg/s over the same archiver sealing (<= 1.10: within 10%), the
# whole drain from a cold start (a fresh JVM's AES-GCM runs in the interpreter and C1 until C2 has
# compiled it) and the running archiver after its first WARM_FILES files.
# Paired: each round's sealing drain over the same round's plain one (the two ran back to back, in
# alternating order), then the median of those ratios. The machine's speed drifts over minutes (here
# three slow rounds in a row moved both methods' drains by ~15%); a ratio within a round cancels
# that, where a ratio of the two methods' medians does not. The ratio of medians is kept beside it.
encrypted_archive_vs_plain_of_medians=$(ratio "${CAP[async_zstd.segs_per_s]:-}" "${CAP[sealed_zstd.segs_per_s]:-}")
encrypted_archive_running_vs_plain_of_medians=$(ratio "${CAP[async_zstd.running_segs_per_s]:-}" "${CAP[sealed_zstd.running_segs_per_s]:-}")
# Each method's drains and running rates in round order, "-" for a round it has none of.
sealed_secs= plain_secs= sealed_running= plain_running=
for r in $(seq "$cap_rounds"); do
  sealed_secs+=" ${PAIR[sealed_zstd.$r.secs]:--}"; plain_secs+=" ${PAIR[async_zstd.$r.secs]:--}"
  sealed_running+=" ${PAIR[sealed_zstd.$r.running]:--}"; plain_running+=" ${PAIR[async_zstd.$r.running]:--}"
done
read -r -a enc_round_ratios <<<"$(pair_ratios "$sealed_secs" "$plain_secs")"
read -r -a enc_running_ratios <<<"$(pair_ratios "$plain_running" "$sealed_running")"
encrypted_archive_vs_plain=$(paired_ratio "$sealed_secs" "$plain_secs")
encrypted_archive_running_vs_plain=$(paired_ratio "$plain_running" "$sealed_running")
recovery_fetch_ahead_vs_today=$(ratio "${REC[today.seconds]:-}" "${REC[fetch_ahead.seconds]:-}")
recovery_fetch_ahead_vs_spec=$(ratio "${REC[spec.seconds]:-}" "${REC[fetch_ahead.seconds]:-}")
recovery_fetch_ahead_vs_pgbackrest_async=$(ratio "${REC[pgbr_async.seconds]:-}" "${REC[fetch_ahead.seconds]:-}")
recovery_restore_vs_pgbackrest_async=$(ratio "${REC[pgbr_async.seconds]:-}" "${REC[pgbackup_restore.seconds]:-}")

printf '\n--- capacity: drain a backlog of %s segments (%s .ready files), %s cores\n' "$backlog_segments" "${backlog_files:-0}" "$cores"
printf '%-44s %8s %8s %8s %10s %6s %8s  %s\n' method seconds "seg/s" "MB/s" "CPU s/seg" cores "rss MiB" note
cap_json=()
for m in "${cap_methods[@]}"; do
  if [ -n "${CAP[$m.seconds]:-}" ]; then
    printf '%-44s %8s %8s %8s %10s %6s %8s  %s\n' "$(method_label "$m")" "${CAP[$m.seconds]}" "${CAP[$m.segs_per_s]}" \
      "${CAP[$m.mb_per_s]}" "${CAP[$m.cpu_per_seg]}" "${CAP[$m.cores_busy]}" "$(per "${CAP[$m.peak_rss_kb]}" 1024 1)" "${CAP_NOTE[$m]}"
    cap_json+=("\"$m\":{\"seconds\":${CAP[$m.seconds]},\"segments_per_s\":$(jn "${CAP[$m.segs_per_s]}"),\"running_segments_per_s\":$(jn "${CAP[$m.running_segs_per_s]:-}"),\"mb_per_s\":$(jn "${CAP[$m.mb_per_s]}"),\"cpu_s_per_segment\":$(jn "${CAP[$m.cpu_per_seg]}"),\"cores_busy\":$(jn "${CAP[$m.cores_busy]}"),\"cpu_s_archive_command\":$(jn "${CAP[$m.cpu_fg]}"),\"cpu_s_detached\":$(jn "${CAP[$m.cpu_detached]}"),\"peak_rss_kb\":$(jn "${CAP[$m.peak_rss_kb]}"),\"stored_bytes\":$(jn "${CAP[$m.bytes]}"),\"failed_attempts\":$(jn "${CAP[$m.failed]}")}")
  else
    note=${CAP_NOTE[$m]:-not run}
    printf '%-44s %8s %8s %8s %10s %6s %8s  %s\n' "$(method_label "$m")" n/a n/a n/a n/a n/a n/a "$note"
    cap_json+=("\"$m\":{\"seconds\":null,\"note\":\"${note//\"/\'}\"}")
  fi
done
if [ ${#enc_round_ratios[@]} -gt 0 ]; then
  echo "sealing / plain, per round (drain seconds): ${enc_round_ratios[*]}; running rates: ${enc_running_ratios[*]:-n/a}"
  cap_json+=("\"encrypted_rounds\":{\"ratios\":[$(IFS=,; echo "${enc_round_ratios[*]}")],\"running_ratios\":[$(IFS=,; echo "${enc_running_ratios[*]:-}")]}")
fi
ceil_json=()
for k in zstd1 pigz1 gzip1; do
  [ -n "${CEIL[$k.cpu]:-}" ] || continue
  printf '%-44s %8s %8s %8s %10s %6s %8s  %s\n' "ceiling: $k, one core per segment" "" "${CEIL[$k.segs_per_s]}" \
    "$(mbps "${CEIL[$k.segs_per_s]}" 1)" "${CEIL[$k.cpu]}" "$cores" "" "$cores cores / CPU s of one segment; $((CEIL[$k.bytes] / 1000)) kB out"
  ceil_json+=("\"$k\":{\"cpu_s_per_segment\":${CEIL[$k.cpu]},\"segments_per_s\":${CEIL[$k.segs_per_s]},\"compressed_bytes\":${CEIL[$k.bytes]}}")
done
[ "$archiver_zstd_pct_of_ceiling" != null ] && echo "archiver (zstd) at ${archiver_zstd_pct_of_ceiling}% of the zstd -1 compression ceiling"
[ "$archiver_gzip_pct_of_ceiling" != null ] && echo "archiver (gzip) at ${archiver_gzip_pct_of_ceiling}% of the pigz -1 compression ceiling"

printf '\n--- sustained load: pgbench -c 4 -j 2 -T %s (scale %s) + bulk insert, .ready sampled every 0.1 s\n' "$load_seconds" "$load_scale"
printf '%-44s %10s %10s  %s\n' method "max .ready" "WAL MB/s" note
load_json=()
for m in "${load_list[@]}"; do
  if [ -n "${LOAD[$m.max_ready]:-}" ]; then
    printf '%-44s %10s %10s  %s\n' "$(method_label "$m")" "${LOAD[$m.max_ready]}" "${LOAD[$m.wal_mb_per_s]}" "${LOAD_NOTE[$m]}"
    load_json+=("\"$m\":{\"max_ready\":$(jn "${LOAD[$m.max_ready]}"),\"wal_mb_per_s\":$(jn "${LOAD[$m.wal_mb_per_s]}"),\"tps\":$(jn "${LOAD[$m.tps]:-}")}")
  else
    note=${LOAD_NOTE[$m]:-not run}
    printf '%-44s %10s %10s  %s\n' "$(method_label "$m")" n/a n/a "$note"
    load_json+=("\"$m\":{\"max_ready\":null,\"note\":\"${note//\"/\'}\"}")
  fi
done

printf '\n--- recovery: one backup, replay to restore point %s, until promoted\n' "$rp"
printf '%-44s %8s %9s %8s  %s\n' method seconds segments "MB/s" note
rec_json=()
declare -A rec_label=([spec]="spec: gzip -dc ARCHIVE/%f.gz > %p" [today]="restore_wal.sh, PG_BACKUP_FETCH_AHEAD=0"
  [fetch_ahead]="restore_wal.sh, fetch-ahead (default)" [pgbackup_restore]="pgbackup restore --target-name"
  [pgbr_async]="pgbackrest archive-get async ($rec_t)")
for m in "${rec_methods[@]}"; do
  if [ -n "${REC[$m.seconds]:-}" ]; then
    printf '%-44s %8s %9s %8s  %s\n' "${rec_label[$m]}" "${REC[$m.seconds]}" "${REC[$m.segments]}" "${REC[$m.mb_per_s]}" "${REC_NOTE[$m]}"
    rec_json+=("\"$m\":{\"seconds\":${REC[$m.seconds]},\"restore_step_seconds\":${REC[$m.prep]},\"segments\":${REC[$m.segments]},\"mb_per_s\":$(jn "${REC[$m.mb_per_s]}")}")
  else
    note=${REC_NOTE[$m]:-not run}
    printf '%-44s %8s %9s %8s  %s\n' "${rec_label[$m]}" n/a n/a n/a "$note"
    rec_json+=("\"$m\":{\"seconds\":null,\"note\":\"${note//\"/\'}\"}")
  fi
done
[ "${rec_same_wal:-true}" = true ] || echo "WARNING: the recovery rows replayed different numbers of segments: $counts"

ratio_names=(archive_capacity_vs_seed_script archive_capacity_vs_pgbackrest_async max_ready_backlog
  sync_capacity_vs_seed_script sync_zstd_vs_pgbackrest_async archiver_zstd_pct_of_ceiling archiver_gzip_pct_of_ceiling
  recovery_fetch_ahead_vs_today recovery_fetch_ahead_vs_spec recovery_fetch_ahead_vs_pgbackrest_async recovery_restore_vs_pgbackrest_async
  encrypted_archive_vs_plain encrypted_archive_running_vs_plain
  encrypted_archive_vs_plain_of_medians encrypted_archive_running_vs_plain_of_medians)
declare -A target=([archive_capacity_vs_seed_script]='>= 12' [archive_capacity_vs_pgbackrest_async]='>= 2.5' [max_ready_backlog]='<= 2'
  [encrypted_archive_vs_plain]='<= 1.10' [encrypted_archive_running_vs_plain]='<= 1.10')
met() { local v=$1 op=${2% *} t=${2#* }; num "$v" || { echo null; return; }
  awk -v v="$v" -v t="$t" -v op="$op" 'BEGIN { print ((op == ">=" ? v >= t : v <= t) ? "true" : "false") }'; }
printf '\n%-42s %8s %8s  %s\n' ratio value target met
ratios_json=(); targets_json=()
for n in "${ratio_names[@]}"; do
  v=${!n}
  if [ -n "${target[$n]:-}" ]; then
    mt=$(met "$v" "${target[$n]}"); targets_json+=("\"$n\":$mt")
  else mt=""; fi
  printf '%-42s %8s %8s  %s\n' "$n" "$v" "${target[$n]:-}" "$mt"
  ratios_json+=("\"$n\":$v")
done
load_end=$(cut -d' ' -f1 /proc/loadavg)
printf '%s cores, PostgreSQL %s, load %s -> %s, %s s\n' "$cores" "${pg_version:-?}" "$load_start" "$load_end" "$(($(date +%s) - started_at))"

json=$(printf '{%s,"targets_met":{%s},"mode":"archive","timestamp":"%s","host":{"nproc":%d,"load_1m_start":%s,"load_1m_end":%s,"pg_version":"%s","pgbackrest":%s},"params":{"segments":%d,"capacity_rounds":%d,"load_seconds":%d,"load_scale":%d,"recovery_compress":"%s","archiver_workers":%s,"seconds":%d},"backlog":{"segments":%d,"files":%d},"capacity":{%s},"ceiling":{%s},"load":{%s},"recovery":{"same_wal":%s,"rows":{%s}}}' \
  "$(IFS=,; echo "${ratios_json[*]}")" "$(IFS=,; echo "${targets_json[*]}")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cores" \
  "$load_start" "$load_end" "${pg_version:-}" \
  "$([ -n "$pgbackrest_bin" ] && echo "\"$("$pgbackrest_bin" version | awk '{ print $2 }')\"" || echo null)" \
  "$segments_wanted" "$cap_rounds" "$load_seconds" "$load_scale" "$rec_c" "${PG_BACKUP_ARCHIVER_WORKERS:-null}" "$(($(date +%s) - started_at))" \
  "$backlog_segments" "${backlog_files:-0}" \
  "$(IFS=,; echo "${cap_json[*]}")" "$(IFS=,; echo "${ceil_json[*]}")" "$(IFS=,; echo "${load_json[*]}")" \
  "${rec_same_wal:-null}" "$(IFS=,; echo "${rec_json[*]}")")
printf '%s\n' "$json" >"$results_dir/archive.json"
printf '%s\n' "$json"
