#!/usr/bin/env bash
# Backup performance harness: a throwaway PostgreSQL cluster with a pgbench database, measured
# with the spec's own commands (the baseline), with pgbackup, and with pgBackRest when installed
# (the peer). Prints a table and, last, one JSON line with the ratios; writes
# bench/results/latest.json (--scaling: bench/results/scaling.json).
#
#   bench/run.sh [--scale N] [--quick] [--runs N] [--restore-tx N] [--keep]
#   bench/run.sh --scaling [--scales 10,50,100] [--keep]
#   bench/run.sh --archive [bench/archive.sh's options]   (archive capacity, load, recovery)
#   bench/run.sh --incremental [--scale N] [--runs N] [--keep]   (only issue 18's rows, bench/incremental.sh)
#
#   --scale N       pgbench scale (default 50, about 750 MiB; --quick: 10)
#   --quick         small database, no Java compression tables: for iterating and CI
#   --runs N        timed repetitions per row, median reported (default and minimum 3)
#   --restore-tx N  pgbench transactions replayed by every restore row (default 200 x scale)
#   --scaling       only: one pgbackup backup (default compression) per scale, MiB/s each
#   --incremental   only: incr/diff backups against a full, chain and delta restores (issue 18);
#                   writes bench/results/incremental.json
#   --keep          keep the work directory (clusters, backups, WAL, logs) and print its path
#   --encryption    only the encryption rows: pgbackup backup (default) plain and encrypted, RUNS rounds
#
# Environment: PG_BIN (else pg_config --bindir, else the newest /usr/lib/postgresql/*/bin),
# BENCH_TMP (parent of the work directory, default /tmp), BENCH_USER (the OS user that runs the
# clusters and every measured command when this runs as root, default postgres: initdb refuses root).
# Everything stays on this machine: clusters listen on 127.0.0.1 (restored ones on a socket only).
# bench/README.md says what each row measures and why it is a fair comparison.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
scale=50
quick=false
runs=3
keep=false
scale_given=false
scaling=false
incremental=false
scales=10,50,100
restore_tx=
# --archive: the archive capacity, sustained-load and recovery rows (bench/archive.sh, same helpers).
if [ "${1:-}" = --archive ]; then shift; exec "$repo/bench/archive.sh" "$@"; fi
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; scale_given=true; shift 2 ;;
    --quick) quick=true; shift ;;
    --runs) runs=$2; shift 2 ;;
    --restore-tx) restore_tx=$2; shift 2 ;;
    --scaling) scaling=true; shift ;;
    --incremental) incremental=true; shift ;;
    --scales) scales=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    --encryption) encryption_only=true; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if $quick && ! $scale_given; then scale=10; fi
if [ "$runs" -lt 3 ]; then echo "run.sh: --runs must be at least 3 (the median needs them)" >&2; exit 2; fi
[[ $scale =~ ^[0-9]+$ ]] || { echo "run.sh: --scale takes a number" >&2; exit 2; }
[ -n "$restore_tx" ] || restore_tx=$((200 * scale))
[[ $restore_tx =~ ^[0-9]+$ ]] || { echo "run.sh: --restore-tx takes a number" >&2; exit 2; }
started_at=$(date +%s)

# The helpers (environment, measuring, cluster, pgbackup, pgBackRest) are shared with bench/archive.sh.
bench_name=run.sh
. "$repo/bench/lib.sh"
. "$repo/bench/incremental.sh"
met() { # VALUE TARGET -> true|false|null
  local v=$1 op=${2% *} t=${2#* }
  num "$v" && [ -n "$2" ] || { echo null; return; }
  awk -v v="$v" -v t="$t" -v op="$op" 'BEGIN { print ((op == ">=" ? v >= t : v <= t) ? "true" : "false") }'
}
# incr_time_vs_full's target (<= 0.15) holds for the summaries path only (17+); 12-16 are held to
# incr_time_vs_ceiling (below pg_basebackup -Ft) instead.
incr_targets_for_version() {
  if [ "${pg_major:-0}" -lt 17 ] || ! grep -rqs UPLOAD_MANIFEST "$repo/pgbackup-core/src/main"; then incr_target[incr_time_vs_full]=''; fi
}

# ================================================================ --scaling

if $scaling; then
  IFS=, read -r -a scale_list <<<"$scales"
  build_cli || { echo "run.sh: --scaling needs the pgbackup CLI" >&2; exit 1; }
  start_cluster
  load_start=$(cut -d' ' -f1 /proc/loadavg)
  pgb_env "$work/repo"
  mkdir_pg "$work/repo"
  as_pg "${pgb[@]}" init >"$work/pgbackup-init.log" 2>&1 || { cat "$work/pgbackup-init.log" >&2; exit 1; }
  set_archive_command "$work/repo/scripts/archive_wal.sh %p %f"
  printf '\n%-8s %12s %12s %10s %10s %12s %10s %9s\n' scale "db bytes" "ceiling s" "ceil MiB/s" "pgbackup s" "bytes" "MiB/s" "rss MiB" >"$work/scaling.txt"
  js=()
  for s in "${scale_list[@]}"; do
    pgbench_init "$s"
    wait_archived # the archiver must not compress pgbench's WAL beside the backups
    psql_pg -c "CHECKPOINT"
    rm -rf "$work/ceiling"
    timed "$bindir/pg_basebackup" -h "$sock" -p "$port" -U postgres -D "$work/ceiling" -Ft -X stream -c fast
    ceil_s=$T_SECONDS; rm -rf "$work/ceiling"
    psql_pg -c "CHECKPOINT"
    log "scale $s: pgbackup backup"
    if timed "${pgb[@]}" backup --checkpoint fast; then
      pb_s=$T_SECONDS; pb_rss=$T_RSS_KB; id=$(newest_backup "$work/repo")
      pb_bytes=$(du -sb "$work/repo/base/$id" | cut -f1); rm -rf "${work:?}/repo/base/$id"
    else
      pb_s=null; pb_rss=null; pb_bytes=null
    fi
    mibs=$(ratio "$(awk -v b="$db_bytes" 'BEGIN { print b / 1048576 }')" "$pb_s" 1)
    ceil_mibs=$(ratio "$(awk -v b="$db_bytes" 'BEGIN { print b / 1048576 }')" "$ceil_s" 1)
    rss_mib=$(ratio "$pb_rss" 1024 1)
    printf '%-8s %12s %12s %10s %10s %12s %10s %9s\n' "$s" "$db_bytes" "$ceil_s" "$ceil_mibs" "$pb_s" "$pb_bytes" "$mibs" "$rss_mib" >>"$work/scaling.txt"
    js+=("{\"scale\":$s,\"database_bytes\":$db_bytes,\"ceiling_seconds\":$ceil_s,\"ceiling_mib_s\":$ceil_mibs,\"pgbackup_seconds\":$pb_s,\"pgbackup_bytes\":$pb_bytes,\"pgbackup_mib_s\":$mibs,\"peak_rss_kb\":$pb_rss}")
  done
  cat "$work/scaling.txt"
  echo "(one run each; MiB/s = pg_database_size / wall seconds of the backup, default compression; load $load_start -> $(cut -d' ' -f1 /proc/loadavg), $cores cores)"
  json=$(printf '{"mode":"scaling","timestamp":"%s","host":{"nproc":%d,"load_1m_start":%s,"load_1m_end":%s,"pg_version":"%s"},"runs":[%s]}' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cores" "$load_start" "$(cut -d' ' -f1 /proc/loadavg)" "$pg_version" "$(IFS=,; echo "${js[*]}")")
  printf '%s\n' "$json" >"$results_dir/scaling.json"
  printf '%s\n' "$json"
  exit 0
fi

# ================================================================ --incremental

if $incremental; then
  have_pgbackup=false
  build_cli && have_pgbackup=true
  [ -f "${jar%.jar}.jsa" ] && cds_active=true
  start_cluster
  load_start=$(cut -d' ' -f1 /proc/loadavg)
  pgbench_init "$scale"
  incremental_rows
  incr_targets_for_version
  print_rows 62
  printf '\n%-30s %9s %9s  %s\n' ratio value target met
  ratios_json=(); targets_json=()
  for n in "${incr_ratio_names[@]}"; do
    v=${!n}; m=$(met "$v" "${incr_target[$n]}")
    printf '%-30s %9s %9s  %s\n' "$n" "$v" "${incr_target[$n]}" "$m"
    ratios_json+=("\"$n\":$v"); targets_json+=("\"$n\":$m")
  done
  printf '%-30s %9s %9s  %s\n' diff_size_vs_full "$diff_size_vs_full" "" "(same change as the incr)"
  [ -n "$INCR_NOTE" ] && echo "$INCR_NOTE"
  load_end=$(cut -d' ' -f1 /proc/loadavg)
  printf '%s cores, PostgreSQL %s, scale %s (%s MiB), load %s -> %s, %s s; targets are for scale 50\n' \
    "$cores" "$pg_version" "$scale" "$((db_bytes / 1048576))" "$load_start" "$load_end" "$(($(date +%s) - started_at))"
  json=$(printf '{"mode":"incremental",%s,"diff_size_vs_full":%s,"targets_met":{%s},"note":"%s","timestamp":"%s","host":{"nproc":%d,"load_1m_start":%s,"load_1m_end":%s,"pg_version":"%s","cds":%s},"params":{"scale":%d,"runs":%d,"seconds":%d},"database_bytes":%d,"rows":{%s}}' \
    "$(IFS=,; echo "${ratios_json[*]}")" "$diff_size_vs_full" "$(IFS=,; echo "${targets_json[*]}")" "$INCR_NOTE" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cores" "$load_start" "$load_end" "$pg_version" "$cds_active" \
    "$scale" "$runs" "$(($(date +%s) - started_at))" "$db_bytes" "$(IFS=,; echo "${json_rows[*]}")")
  printf '%s\n' "$json" >"$results_dir/incremental.json"
  printf '%s\n' "$json"
  exit 0
fi

# ================================================================ the full run

have_pgbackup=false
build_cli && have_pgbackup=true
[ -f "${jar%.jar}.jsa" ] && cds_active=true
start_cluster
# Other people's work on a shared machine skews every row: the load is recorded with the results.
load_start=$(cut -d' ' -f1 /proc/loadavg)
pgbench_init "$scale"

if ! ${encryption_only:-false}; then
# ---------------------------------------------------------------- WAL: real segments

log "generating WAL with pgbench"
seg_size=$(psql_pg -c "SELECT setting::bigint * CASE unit WHEN '8kB' THEN 8192 WHEN 'B' THEN 1 ELSE 1048576 END FROM pg_settings WHERE name = 'wal_segment_size'")
start_seg=$(psql_pg -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
want=16
for _ in $(seq 60); do
  cur=$(psql_pg -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  done_segs=$(psql_pg -c "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}\$' AND name >= '$start_seg' AND name < '$cur'")
  [ "$done_segs" -ge "$want" ] && break
  # As on a server whose checkpoints come often: each burst starts after a checkpoint, so its
  # segments hold full-page images as well as row changes (and 16 segments take seconds, not minutes).
  psql_pg -c "CHECKPOINT"
  as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -c 4 -j 2 -T 5 postgres >>"$work/pgbench-run.log" 2>&1
done
psql_pg -c "SELECT pg_switch_wal()" >/dev/null
cur=$(psql_pg -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
wal_src=$work/wal_src
mkdir -p "$wal_src"
for seg in $(psql_pg -c "SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}\$' AND name >= '$start_seg' AND name < '$cur' ORDER BY name"); do
  cp "$data/pg_wal/$seg" "$wal_src/"
done
chmod -R a+rX "$wal_src"
segments=$(ls "$wal_src" | wc -l)
wal_bytes=$(du -sb "$wal_src" | cut -f1)
log "$segments WAL segments copied"

# ---------------------------------------------------------------- archive rows

# archive_row KEY LABEL RESET DEST CMD...: runs "CMD SEGMENT NAME" once per segment, RUNS passes;
# RESET DEST (untimed) empties the destination before every pass, so no pass meets the
# already-archived shortcut. Each pass is one process as the cluster user (bench/archive_pass.sh),
# which times every call with bash's clock and no extra fork: runuser's own start (30-50 ms on a
# busy machine) would otherwise be a third of a segment's time. Reports the per-segment median.
archive_row() {
  local key=$1 label=$2 reset=$3 dest=$4; shift 4
  local secs=() rss=() pass bytes sec kb out=$work/archive_pass.out
  for pass in $(seq "$runs"); do
    "$reset" "$dest" || { absent_row "$key" "$label" "setup failed"; return 0; }
    if ! as_pg "$repo/bench/archive_pass.sh" "$out" "$wal_src" "$@" 2>"$work/cmd.out"; then
      absent_row "$key" "$label" "failed: $(tail -1 "$work/cmd.out" | cut -c1-160)"; return 0
    fi
    while read -r sec kb; do secs+=("$sec"); rss+=("$kb"); done <"$out"
  done
  bytes=$(du -sb "$dest" | cut -f1)
  add_row "$key" "$label" "$(printf '%.3f' "$(median "${secs[@]}")")" "$((bytes / segments))" "$(maxof "${rss[@]}")" \
    "per segment, median of $((runs * segments)); ratio $(awk -v a="$wal_bytes" -v b="$bytes" 'BEGIN { printf "%.2f", a / b }')"
}
reset_dir() { mkdir_pg "$1"; }
reset_pgbr() { pgbr_fresh_repo "$(basename "$1")"; }

make_spec_script "$work/spec_archive_rows.sh" "$work/wal_spec"
section "archive (per 16 MiB segment)"
log "WAL archive rows"
archive_row wal_spec_gzip "archive: spec script (gzip -c > tmp && mv)" reset_dir "$work/wal_spec" "$work/spec_archive_rows.sh"

compressions=(gzip zstd lz4 none)
for c in "${compressions[@]}"; do
  key=wal_pgbackup_archive_sh_$c; label="archive: pgbackup archive_wal.sh ($c)"
  $have_pgbackup || { absent_row "$key" "$label" "pgbackup not built"; continue; }
  # A repository of its own per compression: init writes scripts/archive_wal.sh for PG_BACKUP_COMPRESS.
  arch_repo=$work/archrepo-$c
  mkdir_pg "$arch_repo"
  pgb_env "$arch_repo" "$c"
  # PG_BACKUP_ARCHIVER=sync: these rows time the script storing one segment itself, called outside
  # any PGDATA (async would hand it to an archiver for the cluster in the current directory).
  if as_pg env PG_BACKUP_ARCHIVER=sync "${pgb[@]}" init >"$work/pgbackup-init-$c.log" 2>&1 && [ -x "$arch_repo/scripts/archive_wal.sh" ]; then
    archive_row "$key" "$label" reset_dir "$arch_repo/wal_archive" "$arch_repo/scripts/archive_wal.sh"
  else
    absent_row "$key" "$label" "init failed: $(tail -1 "$work/pgbackup-init-$c.log")"
  fi
done
pgbr_types=(gz zst)
for t in "${pgbr_types[@]}"; do
  key=wal_pgbackrest_$t; label="archive: pgbackrest archive-push ($t)"
  if [ -z "$pgbackrest_bin" ]; then absent_row "$key" "$label" "not installed"; continue; fi
  pgbr_conf "arch-$t" "$t"
  cat >"$work/pgbr/push-$t.sh" <<EOF
#!/bin/sh
exec "$pgbackrest_bin" --config="$work/pgbr/arch-$t.conf" --stanza=bench archive-push "\$1"
EOF
  chmod 755 "$work/pgbr/push-$t.sh"
  archive_row "$key" "$label" reset_pgbr "$work/pgbr/arch-$t" "$work/pgbr/push-$t.sh"
done

fi # encryption_only

# ---------------------------------------------------------------- backup rows

# One round = every kind once, each after an idle archiver (wait_archived) and a CHECKPOINT, and
# with a fast checkpoint of its own;
# RUNS rounds, medians. Interleaving spreads the shared machine's load drift over all kinds.
live_repo=$work/repo
if $have_pgbackup; then
  mkdir_pg "$live_repo"
  pgb_env "$live_repo"
  if as_pg "${pgb[@]}" init >"$work/pgbackup-init.log" 2>&1; then
    live_archive="$live_repo/scripts/archive_wal.sh %p %f"
    set_archive_command "$live_archive"
  else
    log "pgbackup init failed: $(tail -1 "$work/pgbackup-init.log")"; have_pgbackup=false
  fi
fi
have_pgbr=false
if [ -n "$pgbackrest_bin" ]; then
  have_pgbr=true
  for t in "${pgbr_types[@]}"; do
    pgbr_conf "$t" "$t"
    pgbr_fresh_repo "$t" || have_pgbr=false
  done
fi

kinds=(ceiling spec)
$have_pgbackup && kinds+=(pgb_default pgb_gzip pgb_zstd pgb_lz4 pgb_none)
${encryption_only:-false} && kinds=(pgb_default)
# Encryption at rest (issue 17): the default backup again with a generated key file, same rounds,
# into a repository of its own that 'init' set up with the key (its archiver seals the WAL too).
# Never the live repository: its sealed objects would make every key-less row after these (restore,
# verify, S3) refuse it ("the WAL archive is sealed and this host has no key").
bench_key=$work/bench.key
sealed_repo=$work/repo-sealed
if $have_pgbackup && as_pg "${pgb[@]}" key generate --out "$bench_key" >"$work/key.log" 2>&1; then
  mkdir_pg "$sealed_repo"
  pgb_env "$sealed_repo"
  pgb_sealed=(env PG_BACKUP_ENCRYPTION_KEY_FILE="$bench_key" "${pgb[@]}")
  pgb_env "$live_repo"
  if as_pg "${pgb_sealed[@]}" init >"$work/key.log" 2>&1; then
    sealed_archive="$sealed_repo/scripts/archive_wal.sh %p %f"
    kinds+=(pgb_sealed)
  fi
fi
! ${encryption_only:-false} && $have_pgbr && kinds+=(pgbr_gz pgbr_zst)
declare -A K_SECS=() K_RSS=() K_BYTES=() K_FAIL=() K_CPU=()
pgb_default_compression=
run_backup() { # KIND: one timed backup; appends to K_SECS/K_RSS, sets K_BYTES or K_FAIL
  local k=$1 out id label
  [ -n "${K_FAIL[$k]:-}" ] && return 0
  case $k in
    ceiling|spec)
      out=$work/bb-$k; rm -rf "$out"
      local z=(); [ "$k" = spec ] && z=(-z)
      wait_archived
      psql_pg -c "CHECKPOINT"
      timed "$bindir/pg_basebackup" -h "$sock" -p "$port" -U postgres -D "$out" -Ft -X stream -c fast "${z[@]}" \
        || { K_FAIL[$k]=$T_ERROR; return 0; }
      K_BYTES[$k]=$(du -sb "$out" | cut -f1)
      if [ "$k" = ceiling ]; then mv "$out/base.tar" "$work/base.tar"; fi
      rm -rf "$out" ;;
    pgb_*)
      local args=(backup --checkpoint fast) cmd=("${pgb[@]}") in_repo=$live_repo archive=${live_archive:-}
      case $k in
        pgb_default) ;;
        pgb_sealed) cmd=("${pgb_sealed[@]}"); in_repo=$sealed_repo; archive=$sealed_archive ;;
        *) args+=(--compress "${k#pgb_}") ;;
      esac
      [ -n "$archive" ] && set_archive_command "$archive"
      wait_archived
      psql_pg -c "CHECKPOINT"
      timed "${cmd[@]}" "${args[@]}" || { K_FAIL[$k]=$T_ERROR; return 0; }
      id=$(newest_backup "$in_repo")
      K_BYTES[$k]=$(du -sb "$in_repo/base/$id" | cut -f1)
      if [ "$k" = pgb_default ]; then
        case $(ls "$live_repo/base/$id") in
          *base.tar.gz*) pgb_default_compression=gzip ;; *base.tar.zst*) pgb_default_compression=zstd ;;
          *base.tar.lz4*) pgb_default_compression=lz4 ;; *) pgb_default_compression=none ;;
        esac
      fi
      rm -rf "${in_repo:?}/base/$id" ;;
    pgbr_*)
      local t=${k#pgbr_}
      set_archive_command "$pgbackrest_bin --config=$work/pgbr/$t.conf --stanza=bench archive-push %p"
      # Untimed: the segment before the backup's start goes to this stanza's archive (pgBackRest
      # checks for it) and the archiver is idle when the clock starts, as for every other kind.
      wait_archived
      psql_pg -c "CHECKPOINT"
      timed "$pgbackrest_bin" --config="$work/pgbr/$t.conf" --stanza=bench backup --type=full \
        || { K_FAIL[$k]=$T_ERROR; return 0; }
      label=$(pgbr_newest_backup "$t")
      K_BYTES[$k]=$(du -sb "$work/pgbr/$t/backup/bench/$label" | cut -f1) ;;
  esac
  K_SECS[$k]="${K_SECS[$k]:-} $T_SECONDS"
  K_RSS[$k]="${K_RSS[$k]:-} $T_RSS_KB"
  K_CPU[$k]="${K_CPU[$k]:-} ${T_CPU:-null}"
}
log "backup rows: ${kinds[*]}, $runs rounds"
# Counterbalanced as bench/archive.sh's drains: even rounds reverse the kinds' order, and each
# timed backup starts after a sync, with nothing of the one before it still being written back.
for i in $(seq "$runs"); do
  order=("${kinds[@]}")
  if [ $((i % 2)) = 0 ]; then
    order=(); for ((j = ${#kinds[@]} - 1; j >= 0; j--)); do order+=("${kinds[j]}"); done
  fi
  for k in "${order[@]}"; do sync; run_backup "$k"; done
done
backup_row() { # KIND KEY LABEL NOTE
  local k=$1 key=$2 label=$3 note=${4:-}
  if [ -n "${K_FAIL[$k]:-}" ]; then absent_row "$key" "$label" "failed: ${K_FAIL[$k]}"; return; fi
  # shellcheck disable=SC2086
  add_row "$key" "$label" "$(median ${K_SECS[$k]})" "${K_BYTES[$k]}" "$(maxof ${K_RSS[$k]})" "median of $runs${note:+; $note}"
}
if ${encryption_only:-false}; then
  load_end=$(cut -d' ' -f1 /proc/loadavg)
  backup_row pgb_default pgbackup_backup_default "pgbackup backup (default)"
  if [ -n "${K_SECS[pgb_sealed]:-}" ]; then
    backup_row pgb_sealed pgbackup_backup_encrypted "pgbackup backup (default), encrypted" "PG_BACKUP_ENCRYPTION_KEY_FILE"
  fi
  for r in "${rows[@]}"; do
    IFS='|' read -r label sec bytes rss note <<<"$r"
    case $label in *"(default"*) printf '%-52s %9s %12s %9s  %s\n' "$label" "$sec" "$bytes" "$rss" "$note" ;; esac
  done
  # Paired as bench/archive.sh's encryption rows: each round's encrypted backup over the same round's
  # plain one, then the median; the ratio of the two medians kept beside it.
  encrypted_backup_vs_plain=$(paired_ratio "${K_SECS[pgb_sealed]:-}" "${K_SECS[pgb_default]:-}")
  encrypted_backup_vs_plain_of_medians=$(ratio "$(median ${K_SECS[pgb_sealed]:-})" "$(median ${K_SECS[pgb_default]:-})")
  # CPU seconds of the backup command (user + system), which the machine's load moves less than wall time.
  encrypted_backup_cpu_vs_plain=$(paired_ratio "${K_CPU[pgb_sealed]:-}" "${K_CPU[pgb_default]:-}")
  # A failed backup leaves its round out of its kind's list, so the lists no longer pair up.
  if [ -n "${K_FAIL[pgb_sealed]:-}${K_FAIL[pgb_default]:-}" ]; then
    encrypted_backup_vs_plain=null; encrypted_backup_cpu_vs_plain=null; encrypted_backup_vs_plain_of_medians=null
  fi
  printf 'encrypted / plain, paired per round: %s (CPU %s); ratio of the medians: %s\n' \
    "$encrypted_backup_vs_plain" "$encrypted_backup_cpu_vs_plain" "$encrypted_backup_vs_plain_of_medians"
  printf '{"encrypted_backup_vs_plain":%s,"encrypted_backup_cpu_vs_plain":%s,"encrypted_backup_vs_plain_of_medians":%s,"mode":"encryption","timestamp":"%s","host":{"nproc":%d,"load_1m_start":%s,"load_1m_end":%s},"params":{"scale":%d,"runs":%d},"seconds":{"plain":[%s],"encrypted":[%s]},"cpu_seconds":{"plain":[%s],"encrypted":[%s]}}\n' \
    "$encrypted_backup_vs_plain" "$encrypted_backup_cpu_vs_plain" "$encrypted_backup_vs_plain_of_medians" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$load_start" "$load_end" "$scale" "$runs" \
    "$(echo ${K_SECS[pgb_default]:-} | tr ' ' ,)" "$(echo ${K_SECS[pgb_sealed]:-} | tr ' ' ,)" \
    "$(echo ${K_CPU[pgb_default]:-} | tr ' ' ,)" "$(echo ${K_CPU[pgb_sealed]:-} | tr ' ' ,)" | tee "$results_dir/encryption.json"
  exit 0
fi
section "backup (pgbench scale $scale, database $((db_bytes / 1048576)) MiB)"
backup_row ceiling pg_basebackup_tar "pg_basebackup -Ft -X stream (ceiling)"
backup_row spec pg_basebackup_tar_gzip "pg_basebackup -Ft -X stream -z (spec)"
if $have_pgbackup; then
  backup_row pgb_default pgbackup_backup_default "pgbackup backup (default: ${pgb_default_compression:-?})"
  for c in "${compressions[@]}"; do backup_row "pgb_$c" "pgbackup_backup_$c" "pgbackup backup --compress $c"; done
  if [[ " ${kinds[*]} " == *" pgb_sealed "* ]]; then
    backup_row pgb_sealed pgbackup_backup_encrypted "pgbackup backup (default), encrypted" \
      "PG_BACKUP_ENCRYPTION_KEY_FILE, own repository; cpu $(median ${K_CPU[pgb_sealed]:-}) s against $(median ${K_CPU[pgb_default]:-}) s plain"
  else absent_row pgbackup_backup_encrypted "pgbackup backup (default), encrypted" "key generate or init failed: $(tail -1 "$work/key.log")"; fi
else
  absent_row pgbackup_backup_default "pgbackup backup (default)" "pgbackup not built"
  for c in "${compressions[@]}"; do absent_row "pgbackup_backup_$c" "pgbackup backup --compress $c" "pgbackup not built"; done
fi
for t in "${pgbr_types[@]}"; do
  key=pgbackrest_backup_$t; label="pgbackrest backup --type=full ($t)"
  if [ -z "$pgbackrest_bin" ]; then absent_row "$key" "$label" "not installed"
  elif ! $have_pgbr; then absent_row "$key" "$label" "stanza-create failed"
  else backup_row "pgbr_$t" "$key" "$label" "process-max $cores, WAL in its archive"; fi
done

# ---------------------------------------------------------------- compression of the real base tar

java_rows=null
wal_java_rows=null
build_core() {
  local m2=()
  [ -d /var/cache/pgbackup-ci/m2 ] && m2=(-Dmaven.repo.local=/var/cache/pgbackup-ci/m2)
  export MAVEN_OPTS="${MAVEN_OPTS:-} ${m2[*]}"
  local corejar cpfile=$work/classpath.txt
  corejar=$(ls "$repo"/pgbackup-core/target/pgbackup-core-*[0-9T].jar 2>/dev/null | head -1 || true)
  if [ -z "$corejar" ] || [ -n "$(find "$repo/pgbackup-core/src/main" -newer "$corejar" -type f | head -1)" ]; then
    log "building pgbackup-core (package, no tests)"
    (cd "$repo" && mvn_once package -DskipTests -pl pgbackup-core) || return 1
    corejar=$(ls "$repo"/pgbackup-core/target/pgbackup-core-*[0-9T].jar | head -1)
  fi
  # dependency:build-classpath at the pom's pinned version (a bare 2.8 is in no fresh local repository).
  (cd "$repo" && mvn_once dependency:build-classpath -pl pgbackup-core -DincludeScope=runtime -Dmdep.outputFile="$cpfile") || return 1
  core_cp="$corejar:$(cat "$cpfile")"
}
if $quick; then
  log "--quick: no Java compression tables"
elif [ -f "$work/base.tar" ] && command -v java >/dev/null && command -v mvn >/dev/null && build_core; then
  log "Java compression benchmark on the base tar and the WAL segments"
  # A small heap proves the writers' memory is bounded whatever the input size.
  java -Xmx128m -cp "$core_cp" "$repo/bench/CompressionBench.java" --input "$work/base.tar" --work "$work" \
    --runs "$runs" --block-sizes 131072,524288,1048576 --json "$work/compression.json" >"$work/compression.txt"
  java_rows=$(cat "$work/compression.json")
  java -Xmx128m -cp "$core_cp" "$repo/bench/CompressionBench.java" --inputs-dir "$wal_src" --work "$work" \
    --runs "$runs" --json "$work/compression-wal.json" >"$work/compression-wal.txt"
  wal_java_rows=$(cat "$work/compression-wal.json")
fi

# External tools on the same tar, for reference: the spec's gzip and pigz.
tool_row() { # key label cmd...
  local key=$1 label=$2; shift 2
  local secs=() rss=() i
  command -v "$1" >/dev/null || { absent_row "$key" "$label" "not installed"; return; }
  [ -f "$work/base.tar" ] || { absent_row "$key" "$label" "no base tar"; return; }
  for i in $(seq "$runs"); do
    timed sh -c "$* < '$work/base.tar' > '$work/tool.out'" || { absent_row "$key" "$label" "failed"; return; }
    secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
  done
  add_row "$key" "$label" "$(median "${secs[@]}")" "$(stat -c %s "$work/tool.out")" "$(maxof "${rss[@]}")" "base tar only"
  rm -f "$work/tool.out"
}
chmod 644 "$work/base.tar" 2>/dev/null || true
section "compressors on the base tar alone"
tool_row gzip6_base_tar "gzip -6 base.tar (single thread)" gzip -6 -c
tool_row pigz_base_tar "pigz -p $cores -6 base.tar" pigz -p "$cores" -6 -c
rm -f "$work/base.tar"

# ---------------------------------------------------------------- restore rows

# Every restore replays the same WAL: all backups below are taken first, then pgbench runs
# RESTORE_TX transactions, then the restore point. Each tool restores from its own archive, all
# fed by one archive_command: pgbackup's archive_wal.sh, the spec's gzip script, pgBackRest's
# archive-push per compression. Timed from the first command to "pg_is_in_recovery() is false".
rp=pgbackup_bench
spec_arch=$work/spec_archive
restore_kinds=()
declare -A START_LSN=() RESTORE_FROM=()
# The spec's restore procedure: both tars with tar -xzf, recovery.signal, the target, promote;
# restore_command reads the spec's own archive (gzip -6, written by the spec script).
cat >"$work/spec_restore.sh" <<EOF
#!/bin/sh
set -e
d=\$1
mkdir -m 700 "\$d"
tar -xzf "$work/spec_backup/base.tar.gz" -C "\$d"
tar -xzf "$work/spec_backup/pg_wal.tar.gz" -C "\$d/pg_wal"
cat >>"\$d/postgresql.auto.conf" <<'CONF'
restore_command = 'gzip -dc $spec_arch/%f.gz > "%p"'
recovery_target_name = '$rp'
recovery_target_action = 'promote'
CONF
touch "\$d/recovery.signal"
EOF
chmod 755 "$work/spec_restore.sh"
if $have_pgbackup || [ -n "$pgbackrest_bin" ]; then
  log "restore: backups, then $restore_tx pgbench transactions, then restore point '$rp'"
  mkdir_pg "$spec_arch"
  make_spec_script "$work/spec_archive.sh" "$spec_arch"
  combined="$work/spec_archive.sh %p %f"
  $have_pgbackup && combined="$live_repo/scripts/archive_wal.sh %p %f && $combined"
  if $have_pgbr; then
    for t in "${pgbr_types[@]}"; do combined="$combined && $pgbackrest_bin --config=$work/pgbr/$t.conf --stanza=bench archive-push %p"; done
  fi
  set_archive_command "$combined"
  wait_archived
  # pgbackup first: the backups after it add a few checkpoints and segment switches that only
  # the earlier ones replay, so the order never favours pgbackup.
  if $have_pgbackup; then
    START_LSN[pgbackup]=$(psql_pg -c "SELECT pg_current_wal_lsn()")
    if as_pg "${pgb[@]}" backup --checkpoint fast >"$work/restore-backup.log" 2>&1; then
      RESTORE_FROM[pgbackup]=$(newest_backup "$live_repo"); restore_kinds+=(pgbackup)
    else
      log "pgbackup backup for the restore rows failed: $(tail -1 "$work/restore-backup.log")"
    fi
  fi
  START_LSN[tar_gz]=$(psql_pg -c "SELECT pg_current_wal_lsn()")
  rm -rf "$work/spec_backup"
  as_pg "$bindir/pg_basebackup" -h "$sock" -p "$port" -U postgres -D "$work/spec_backup" -Ft -X stream -z -c fast
  restore_kinds+=(tar_gz)
  if $have_pgbr; then
    for t in "${pgbr_types[@]}"; do
      START_LSN[pgbr_$t]=$(psql_pg -c "SELECT pg_current_wal_lsn()")
      if pgbr "$t" backup --type=full >"$work/restore-backup.log" 2>&1; then
        RESTORE_FROM[pgbr_$t]=$(pgbr_newest_backup "$t"); restore_kinds+=("pgbr_$t")
      else
        log "pgBackRest $t backup for the restore rows failed: $(tail -1 "$work/restore-backup.log")"
      fi
    done
  fi
  as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -c 4 -j 2 -t "$((restore_tx / 4))" postgres >"$work/pgbench-restore.log" 2>&1
  expected_history=$(psql_pg -c "SELECT count(*) FROM pgbench_history")
  rp_lsn=$(psql_pg -c "SELECT pg_create_restore_point('$rp')")
  wait_archived
fi

rsock=$work/run-restore
mkdir -p "$rsock" && chown "$pg_user" "$rsock" 2>/dev/null || true
# start_until_promoted DIR: starts a restored cluster on a free port, socket only, archiving off
# (it must not write into the archives it is reading), and waits until it has promoted.
start_until_promoted() {
  local d=$1 p i state
  p=$(free_port)
  pg_dirs+=("$d")
  as_pg "$bindir/pg_ctl" -D "$d" -l "$d.log" -W \
    -o "-c port=$p -c listen_addresses='' -c unix_socket_directories='$rsock' -c archive_mode=off" start >/dev/null
  for i in $(seq 120000); do
    state=$(psql_at "$p" "$rsock" -c "SELECT pg_is_in_recovery()" 2>/dev/null || true)
    [ "$state" = f ] && break
    if [ "$((i % 20))" = 0 ] && ! as_pg "$bindir/pg_ctl" -D "$d" status >/dev/null 2>&1; then
      R_ERROR="server stopped: $(grep -E 'FATAL|PANIC' "$d.log" | tail -1 | cut -c1-140)"; return 1
    fi
    sleep 0.02
  done
  [ "$state" = f ] || { R_ERROR="not promoted"; return 1; }
  local got
  got=$(psql_at "$p" "$rsock" -c "SELECT count(*) FROM pgbench_history")
  [ "$got" = "$expected_history" ] || { R_ERROR="wrong data: pgbench_history $got rows, expected $expected_history"; return 1; }
}
stop_restored() { as_pg "$bindir/pg_ctl" -D "$1" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$1" "$1.log"; }

declare -A RS_TOTAL=() RS_PREP=() RS_RSS=() RS_FAIL=() RS_BYTES=()
run_restore() { # KIND
  local k=$1 d=$work/restore-$1 t0 t1 tot
  [ -n "${RS_FAIL[$k]:-}" ] && return 0
  rm -rf "$d" "$d.log"
  R_ERROR=
  T_RSS_KB=null
  t0=$(now)
  case $k in
    tar_gz)
      as_pg "$work/spec_restore.sh" "$d" >"$work/cmd.out" 2>&1 || R_ERROR="extract: $(tail -1 "$work/cmd.out")" ;;
    pgbackup)
      timed "${pgb[@]}" restore "${RESTORE_FROM[pgbackup]}" --target-name "$rp" --target-action promote --target-dir "$d" \
        || R_ERROR="restore: $T_ERROR" ;;
    pgbr_*)
      as_pg mkdir -m 700 "$d"
      timed "$pgbackrest_bin" --config="$work/pgbr/${k#pgbr_}.conf" --stanza=bench --pg1-path="$d" \
        --set="${RESTORE_FROM[$k]}" --type=name --target="$rp" --target-action=promote restore || R_ERROR="restore: $T_ERROR" ;;
  esac
  t1=$(now)
  if [ -z "$R_ERROR" ]; then
    RS_BYTES[$k]=$(du -sb "$d" | cut -f1)
    start_until_promoted "$d" || true
  fi
  tot=$(since "$t0")
  stop_restored "$d"
  if [ -n "$R_ERROR" ]; then RS_FAIL[$k]=$R_ERROR; log "restore $k failed: $R_ERROR"; return 0; fi
  RS_TOTAL[$k]="${RS_TOTAL[$k]:-} $tot"
  RS_PREP[$k]="${RS_PREP[$k]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  RS_RSS[$k]="${RS_RSS[$k]:-} $T_RSS_KB"
}
if [ ${#restore_kinds[@]} -gt 0 ]; then
  log "restore rows: ${restore_kinds[*]}, $runs rounds"
  for i in $(seq "$runs"); do
    for k in "${restore_kinds[@]}"; do run_restore "$k"; done
  done
fi
restore_row() { # KIND KEY LABEL
  local k=$1 key=$2 label=$3 replay
  if [ -n "${RS_FAIL[$k]:-}" ]; then absent_row "$key" "$label" "failed: ${RS_FAIL[$k]}"; return; fi
  if [ -z "${RS_TOTAL[$k]:-}" ]; then absent_row "$key" "$label" "${4:-not run}"; return; fi
  replay=$(psql_pg -c "SELECT round(pg_wal_lsn_diff('$rp_lsn', '${START_LSN[$k]}') / 1048576)")
  # shellcheck disable=SC2086
  add_row "$key" "$label" "$(median ${RS_TOTAL[$k]})" "${RS_BYTES[$k]}" "$(maxof ${RS_RSS[$k]})" \
    "median of $runs; restore step $(median ${RS_PREP[$k]}) s, then start+replay+promote; replays ${replay} MiB of WAL"
}
section "restore to a named restore point, until promoted ($restore_tx pgbench transactions)"
restore_row tar_gz restore_tar_gz "tar -xzf (spec backup) + start + replay" "not run"
if $have_pgbackup; then
  restore_row pgbackup pgbackup_restore "pgbackup restore (default backup) + start" "backup failed"
else
  absent_row pgbackup_restore "pgbackup restore (default backup) + start" "pgbackup not built"
fi
for t in "${pgbr_types[@]}"; do
  key=pgbackrest_restore_$t; label="pgbackrest restore ($t) + start"
  if [ -z "$pgbackrest_bin" ]; then absent_row "$key" "$label" "not installed"
  else restore_row "pgbr_$t" "$key" "$label" "backup failed"; fi
done

# ---------------------------------------------------------------- S3 rows (in-process server)

# s3_rows: backup to and restore from an S3 bucket on the in-process server (s3proxy over HTTP on
# 127.0.0.1, filesystem backend: pgbackup-s3's test fixture run as a process, io.pgbackup.s3.testing.S3ServerMain),
# same database and run as the local rows, so the difference is pgbackup's S3 overhead, not a network.
# Backup: "pgbackup backup" with PG_BACKUP_S3_* set (into the local repository, then its inline copy to
# the bucket, manifest last: the command's whole time). Restore: "restore --repo s3" of the restore rows'
# backup (synced untimed first, with its WAL) to the same named point, then start until promoted.
# MiB/s = pg_database_size / seconds. Each round also times the local kind (default backup; restore
# of the same backup) right before the S3 one: the ratios compare those neighbours. Sets S3_RATIOS
# (JSON members) for the report.
S3_RATIOS=
s3_rows() {
  local k3=pgbackup_s3_backup kr=pgbackup_s3_restore lb="pgbackup backup + inline copy to S3 (in-process)"
  local lr="pgbackup restore --repo s3 (in-process) + start"
  if ! $have_pgbackup || [ -z "${RESTORE_FROM[pgbackup]:-}" ]; then
    absent_row "$k3" "$lb" "no pgbackup backup"; absent_row "$kr" "$lr" "no pgbackup backup"; return 0
  fi
  local server_cp
  if ! server_cp=$(s3_server_classpath "$work/s3-classpath.txt"); then
    absent_row "$k3" "$lb" "no test classpath for the S3 server"; absent_row "$kr" "$lr" "no test classpath for the S3 server"; return 0
  fi
  coproc S3SRV { exec java -Xmx512m -cp "$server_cp" io.pgbackup.s3.testing.S3ServerMain --dir "$work/s3" 2>"$work/s3-server.log"; }
  local s3pid=$S3SRV_PID line s3env=(PG_BACKUP_S3_PREFIX=bench PG_BACKUP_S3_REGION=us-east-1)
  while read -r line <&"${S3SRV[0]}"; do [ "$line" = ready ] && break; s3env+=("$line"); done
  if [ "$line" != ready ]; then
    absent_row "$k3" "$lb" "S3 server did not start"; absent_row "$kr" "$lr" "S3 server did not start"; return 0
  fi
  # Each round times the local kind right before the S3 one (as the backup rows interleave their
  # kinds), so the ratios compare neighbours, not rows minutes apart on a shared machine.
  local pgs3=(env "${s3env[@]}" "${pgb[@]}") secs=() rss=() lsecs=() i id d t0 fail= lfail=
  set_archive_command "$live_archive"
  for i in $(seq "$runs"); do
    wait_archived
    psql_pg -c "CHECKPOINT"
    if timed "${pgb[@]}" backup --checkpoint fast; then
      lsecs+=("$T_SECONDS"); id=$(newest_backup "$live_repo"); rm -rf "${live_repo:?}/base/$id"
    else lfail=$T_ERROR; fi
    wait_archived
    psql_pg -c "CHECKPOINT"
    if ! timed "${pgs3[@]}" backup --checkpoint fast; then fail=$T_ERROR; break; fi
    secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
    id=$(newest_backup "$live_repo"); rm -rf "${live_repo:?}/base/$id"
  done
  local local_backup=null local_restore=null
  [ -z "$lfail" ] && [ ${#lsecs[@]} -gt 0 ] && local_backup=$(median "${lsecs[@]}")
  if [ -n "$fail" ]; then absent_row "$k3" "$lb" "failed: $fail"
  else add_row "$k3" "$lb" "$(median "${secs[@]}")" "n/a" "$(maxof "${rss[@]}")" \
    "median of $runs; $(ratio "$((db_bytes / 1048576))" "$(median "${secs[@]}")" 1) MiB/s of database; local default backup in the same rounds $local_backup s"; fi
  # The restore rows' backup and the WAL to the restore point, into the bucket (untimed).
  secs=(); rss=(); lsecs=(); fail=; lfail=
  if ! as_pg "${pgs3[@]}" sync --to s3 >"$work/s3-sync.log" 2>&1; then
    fail="sync: $(tail -1 "$work/s3-sync.log")"
  fi
  for i in $(seq "$runs"); do
    [ -n "$fail" ] && break
    for from in local s3; do
      d=$work/restore-s3-$from; rm -rf "$d" "$d.log"; R_ERROR=
      t0=$(now)
      if [ "$from" = local ]; then
        timed "${pgb[@]}" restore "${RESTORE_FROM[pgbackup]}" --target-name "$rp" --target-action promote --target-dir "$d" \
          && start_until_promoted "$d" && lsecs+=("$(since "$t0")") || lfail=${R_ERROR:-$T_ERROR}
        stop_restored "$d"
        continue
      fi
      if ! timed "${pgs3[@]}" restore --repo s3 "${RESTORE_FROM[pgbackup]}" --target-name "$rp" --target-action promote --target-dir "$d"; then
        fail="restore: $T_ERROR"; break
      fi
      start_until_promoted "$d" || { fail=$R_ERROR; stop_restored "$d"; break; }
      secs+=("$(since "$t0")"); rss+=("$T_RSS_KB")
      stop_restored "$d"
    done
  done
  [ -z "$lfail" ] && [ ${#lsecs[@]} -gt 0 ] && local_restore=$(median "${lsecs[@]}")
  if [ -n "$fail" ]; then absent_row "$kr" "$lr" "failed: $fail"
  else add_row "$kr" "$lr" "$(median "${secs[@]}")" "n/a" "$(maxof "${rss[@]}")" \
    "median of $runs; same backup and target as the local restore row; local restore in the same rounds $local_restore s"; fi
  echo quit >&"${S3SRV[1]}" 2>/dev/null || true
  wait "$s3pid" 2>/dev/null || true
  local lbs lrs
  lbs=$(ratio "$local_backup" "$(s $k3)"); lrs=$(ratio "$local_restore" "$(s $kr)")
  S3_RATIOS="\"s3_backup_vs_local\":$lbs,\"local_backup_seconds\":$local_backup,\"local_restore_seconds\":$local_restore,\"s3_restore_vs_local\":$lrs,\"s3_backup_mib_s\":$(ratio "$((db_bytes / 1048576))" "$(s $k3)" 1),\"s3_restore_mib_s\":$(ratio "$((db_bytes / 1048576))" "$(s $kr)" 1),\"s3_peak_rss_mib\":$(ratio "$(maxof "${R[$k3]:-}" "${R[$kr]:-}")" 1024 1)"
}
section "S3 bucket on the in-process server (s3proxy, 127.0.0.1)"
log "S3 rows"
s() { echo "${S[$1]:-n/a}"; }
s3_rows

# ---------------------------------------------------------------- verify rows

section "verify"
for v in plain restore_test; do
  key=pgbackup_verify_$v
  label="pgbackup verify ID$([ "$v" = restore_test ] && echo " --restore-test" || true)"
  if ! $have_pgbackup || [ -z "${RESTORE_FROM[pgbackup]:-}" ]; then
    absent_row "$key" "$label" "no backup"; continue
  fi
  args=(verify "${RESTORE_FROM[pgbackup]}"); [ "$v" = restore_test ] && args+=(--restore-test)
  secs=(); rss=(); failed=
  for i in $(seq "$runs"); do
    if timed "${pgb[@]}" "${args[@]}"; then secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
    else failed=$T_ERROR; break; fi
  done
  if [ -n "$failed" ]; then absent_row "$key" "$label" "failed: $failed"
  else add_row "$key" "$label" "$(median "${secs[@]}")" "n/a" "$(maxof "${rss[@]}")" "median of $runs"; fi
done

# ---------------------------------------------------------------- incremental rows (issue 18)

log "incremental rows"
incremental_rows
incr_targets_for_version

# ---------------------------------------------------------------- ratios

s() { echo "${S[$1]:-n/a}"; }
b() { echo "${B[$1]:-n/a}"; }
# peak RSS over every pgbackup JVM run (backup, restore, verify); /usr/bin/time's %M is the
# largest resident set in the process tree it waited for: the JVM, its pg_basebackup/tar children.
rss_all=()
for k in "${!R[@]}"; do
  case $k in pgbackup_backup_*|pgbackup_restore|pgbackup_verify_*) rss_all+=("${R[$k]}") ;; esac
done
peak_kb=$(maxof "${rss_all[@]}")
backup_vs_gzip=$(ratio "$(s pg_basebackup_tar_gzip)" "$(s pgbackup_backup_default)")
size_vs_gzip=$(ratio "$(b pgbackup_backup_default)" "$(b pg_basebackup_tar_gzip)" 3)
zstd_vs_ceiling=$(ratio "$(s pg_basebackup_tar)" "$(s pgbackup_backup_zstd)")
archive_vs_seed_script=$(ratio "$(s wal_spec_gzip)" "$(s wal_pgbackup_archive_sh_gzip)")
archive_zstd_vs_seed_script=$(ratio "$(s wal_spec_gzip)" "$(s wal_pgbackup_archive_sh_zstd)")
restore_vs_tar_gz=$(ratio "$(s restore_tar_gz)" "$(s pgbackup_restore)")
peak_rss_mib=$(ratio "${peak_kb:-}" 1024 1)
# pgBackRest / pgbackup, same compression: gz against pgbackup's gzip (its default), zst against zstd.
backup_vs_pgbackrest=$(ratio "$(s pgbackrest_backup_gz)" "$(s pgbackup_backup_gzip)")
archive_vs_pgbackrest=$(ratio "$(s wal_pgbackrest_gz)" "$(s wal_pgbackup_archive_sh_gzip)")
restore_vs_pgbackrest=$(ratio "$(s pgbackrest_restore_gz)" "$(s pgbackup_restore)")
backup_zstd_vs_pgbackrest=$(ratio "$(s pgbackrest_backup_zst)" "$(s pgbackup_backup_zstd)")
archive_zstd_vs_pgbackrest=$(ratio "$(s wal_pgbackrest_zst)" "$(s wal_pgbackup_archive_sh_zstd)")
# Encryption's cost: the sealed default backup's time over the plain one's (<= 1.10: within 10%).
encrypted_backup_vs_plain=$(ratio "$(s pgbackup_backup_encrypted)" "$(s pgbackup_backup_default)")

ratio_names=(backup_vs_gzip size_vs_gzip zstd_vs_ceiling archive_vs_seed_script archive_zstd_vs_seed_script
  restore_vs_tar_gz peak_rss_mib backup_vs_pgbackrest archive_vs_pgbackrest restore_vs_pgbackrest encrypted_backup_vs_plain)
declare -A target=([backup_vs_gzip]='>= 3.0' [size_vs_gzip]='<= 1.06' [zstd_vs_ceiling]='>= 1.0'
  [archive_vs_seed_script]='>= 1.0' [archive_zstd_vs_seed_script]='>= 5.0' [restore_vs_tar_gz]='>= 1.5'
  [peak_rss_mib]='<= 256' [backup_vs_pgbackrest]='>= 2.0' [archive_vs_pgbackrest]='>= 1.0'
  [restore_vs_pgbackrest]='>= 1.0' [encrypted_backup_vs_plain]='<= 1.10')
met() { # VALUE TARGET -> true|false|null
  local v=$1 op=${2% *} t=${2#* }
  num "$v" || { echo null; return; }
  awk -v v="$v" -v t="$t" -v op="$op" 'BEGIN { print ((op == ">=" ? v >= t : v <= t) ? "true" : "false") }'
}
for n in "${incr_ratio_names[@]}"; do ratio_names+=("$n"); target[$n]=${incr_target[$n]}; done

# ---------------------------------------------------------------- report

print_rows 52
for t in compression compression-wal; do
  if [ -f "$work/$t.txt" ]; then
    printf '\n%s (bench/CompressionBench.java, JVM -Xmx128m; rss is the whole JVM'"'"'s)\n' "$t"
    cat "$work/$t.txt"
  fi
done
load_end=$(cut -d' ' -f1 /proc/loadavg)
printf '\n%-30s %9s %9s  %s\n' ratio value target met
ratios_json=()
targets_json=()
for n in "${ratio_names[@]}"; do
  v=${!n}
  m=$(met "$v" "${target[$n]}")
  printf '%-30s %9s %9s  %s\n' "$n" "$v" "${target[$n]}" "$m"
  ratios_json+=("\"$n\":$v")
  targets_json+=("\"$n\":$m")
done
printf '%-30s %9s %9s  %s\n' backup_zstd_vs_pgbackrest "$backup_zstd_vs_pgbackrest" "" "(zst against zstd)"
printf '%-30s %9s %9s  %s\n' archive_zstd_vs_pgbackrest "$archive_zstd_vs_pgbackrest" "" "(zst against zstd)"
[ -z "$pgbackrest_bin" ] && echo "pgBackRest: not installed (apt-get install pgbackrest); its ratios are null"
[ -n "${INCR_NOTE:-}" ] && echo "$INCR_NOTE"
printf '%s cores, %s MiB RAM, PostgreSQL %s, scale %s (%s MiB), load %s -> %s, %s s; targets are for scale 50\n' \
  "$cores" "$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024))" "$pg_version" "$scale" "$((db_bytes / 1048576))" \
  "$load_start" "$load_end" "$(($(date +%s) - started_at))"

joined=$(IFS=,; echo "${json_rows[*]}")
json=$(printf '{%s,"pgbackrest_zst":{"backup_vs_pgbackrest":%s,"archive_vs_pgbackrest":%s},"targets_met":{%s},"timestamp":"%s","host":{"nproc":%d,"mem_kb":%d,"load_1m_start":%s,"load_1m_end":%s,"pg_version":"%s","pgbackrest":%s,"cds":%s},"params":{"scale":%d,"runs":%d,"quick":%s,"restore_tx":%d,"checkpoint":"fast","seconds":%d},"database_bytes":%d,"cluster_bytes":%d,"wal":{"segments":%d,"segment_bytes":%d},"rows":{%s},"compression_base_tar":%s,"compression_wal":%s}' \
  "$(IFS=,; echo "${ratios_json[*]}")" "$backup_zstd_vs_pgbackrest" "$archive_zstd_vs_pgbackrest" "$(IFS=,; echo "${targets_json[*]}")" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$cores" "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
  "$load_start" "$load_end" "$pg_version" \
  "$([ -n "$pgbackrest_bin" ] && echo "\"$("$pgbackrest_bin" version | awk '{ print $2 }')\"" || echo null)" "$cds_active" \
  "$scale" "$runs" "$quick" "$restore_tx" "$(($(date +%s) - started_at))" "$db_bytes" "$cluster_bytes" "$segments" "$seg_size" \
  "$joined" "$java_rows" "$wal_java_rows")
printf '%s\n' "$json" >"$results_dir/latest.json"
printf '%s\n' "$json"
# The S3 rows' ratios (s3_rows): throughput against the local rows of this run, and their own peak RSS.
if [ -n "$S3_RATIOS" ]; then printf '{%s}\n' "$S3_RATIOS" | tee "$results_dir/latest-s3.json"; fi
