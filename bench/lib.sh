# lib.sh: helpers shared by bench/run.sh and bench/archive.sh; sourced after their argument
# parsing, with $repo and $keep set. Sets up the environment (PostgreSQL binaries, the cluster user,
# /usr/bin/time, pgBackRest, a work directory that is removed on exit) and defines the measuring,
# cluster, pgbackup and pgBackRest helpers.
# shellcheck shell=bash
# ---------------------------------------------------------------- environment

if [ -n "${PG_BIN:-}" ]; then
  bindir=$PG_BIN
elif command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -x "$bindir/initdb" ] || { echo "${bench_name:-run.sh}: no PostgreSQL binaries (set PG_BIN)" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  pg_user=${BENCH_USER:-postgres}
  id "$pg_user" >/dev/null 2>&1 || { echo "${bench_name:-run.sh}: user $pg_user does not exist (initdb refuses root)" >&2; exit 1; }
  as_pg() { runuser -u "$pg_user" -- "$@"; }
else
  pg_user=$(id -un)
  as_pg() { "$@"; }
fi

if [ -x /usr/bin/time ]; then
  timer=/usr/bin/time
else
  timer=
  echo "${bench_name:-run.sh}: /usr/bin/time missing (apt-get install time): peak RSS will be null" >&2
fi
# The harness never installs anything: without pgBackRest its rows say "not installed".
pgbackrest_bin=$(command -v pgbackrest || true)
cores=$(nproc)

work=$(mktemp -d "${BENCH_TMP:-/tmp}/pgbackup-bench.XXXXXX")
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown "$pg_user" "$work"
data=$work/data
sock=$work/run
results_dir=$repo/bench/results
mkdir -p "$results_dir"

pg_dirs=() # every data directory this run starts: all are stopped on exit, even after an error
cleanup() {
  local d
  for d in "${pg_dirs[@]}"; do
    if [ -f "$d/postmaster.pid" ]; then
      as_pg "$bindir/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  if $keep; then echo "${bench_name:-run.sh}: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "${bench_name:-run.sh}: no free port" >&2; exit 1
}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }'; }
mkdir_pg() { rm -rf "$1"; as_pg mkdir -p -m 700 "$1"; }

# ---------------------------------------------------------------- measuring

# timed CMD...: runs CMD as the cluster user under /usr/bin/time; sets T_SECONDS, T_RSS_KB, T_CPU
# (user + system seconds of CMD and the children it waited for: less load-sensitive than wall time),
# and on failure T_ERROR (the command's last output line) and returns 1.
timed() {
  local tf="$work/time.out"
  T_ERROR=
  if [ -n "$timer" ]; then
    if ! as_pg "$timer" -f '%e %M %U %S' -o "$tf" "$@" >"$work/cmd.out" 2>&1; then
      T_ERROR=$(grep -v '^Command exited' "$work/cmd.out" | tail -1 | cut -c1-160)
      tail -5 "$work/cmd.out" >&2; return 1
    fi
    local t_user t_sys
    read -r T_SECONDS T_RSS_KB t_user t_sys <"$tf"
    T_CPU=$(awk -v u="$t_user" -v s="$t_sys" 'BEGIN { printf "%.2f", u + s }')
  else
    local s
    s=$(now)
    if ! as_pg "$@" >"$work/cmd.out" 2>&1; then
      T_ERROR=$(tail -1 "$work/cmd.out" | cut -c1-160)
      tail -5 "$work/cmd.out" >&2; return 1
    fi
    T_SECONDS=$(since "$s")
    T_RSS_KB=null
    T_CPU=null
  fi
}

# median: the middle value, or the mean of the two middle ones for an even count.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | tail -1 || true; }
num() { [[ ${1:-} =~ ^[0-9]+([.][0-9]+)?$ ]]; }
# pair_ratios "A1 A2 ..." "B1 B2 ..." [DIGITS]: A_i / B_i (3 decimals) for each i where both are
# numbers (the i-th of each ran in the same round; anything else, "-" say, leaves that round out).
pair_ratios() {
  local -a a b r=(); local i v
  read -r -a a <<<"${1:-}"; read -r -a b <<<"${2:-}"
  for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
    v=$(ratio "${a[i]}" "${b[i]}" "${3:-3}"); [ "$v" = null ] || r+=("$v")
  done
  echo "${r[*]}"
}
# paired_ratio "A1 A2 ..." "B1 B2 ...": the median of pair_ratios, to 2 decimals; null when there is none.
paired_ratio() {
  local -a r; read -r -a r <<<"$(pair_ratios "${1:-}" "${2:-}" 4)"
  if [ ${#r[@]} -gt 0 ]; then printf '%.2f' "$(median "${r[@]}")"; else echo null; fi
}
# ratio A B [DIGITS]: A / B, or null when either is missing.
ratio() { if num "$1" && num "$2" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, a / b }'; else echo null; fi; }

# Rows of the report. S[key], B[key], R[key] hold seconds, bytes and peak RSS (KiB) for the ratios.
rows=()
json_rows=()
declare -A S=() B=() R=()
add_row() { # key label seconds bytes rss_kb note
  local key=$1 label=$2 sec=$3 bytes=$4 rss=$5 note=${6:-}
  note=${note//\"/\'}; note=${note//\\/\/}
  rows+=("$label|$sec|$bytes|$rss|$note")
  S[$key]=$sec; B[$key]=$bytes; R[$key]=$rss
  local j_sec=$sec j_bytes=$bytes j_rss=$rss
  num "$sec" || j_sec=null
  [[ $bytes =~ ^[0-9]+$ ]] || j_bytes=null
  [[ $rss =~ ^[0-9]+$ ]] || j_rss=null
  json_rows+=("\"$key\":{\"label\":\"$label\",\"seconds\":$j_sec,\"bytes\":$j_bytes,\"peak_rss_kb\":$j_rss,\"note\":\"$note\"}")
}
absent_row() { add_row "$1" "$2" "n/a" "n/a" "n/a" "$3"; }
section() { rows+=("--- $1|||| "); }

psql_at() { # PORT SOCKETDIR psql-args...
  local p=$1 s=$2; shift 2
  as_pg "$bindir/psql" -h "$s" -p "$p" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 "$@"
}
psql_pg() { psql_at "$port" "$sock" "$@"; }

# ---------------------------------------------------------------- pgbackup: build and launcher

# Maven offline first (fast); online once when the local repository lacks something (a fresh
# machine). Every plugin version is pinned in the pom, so what that one online run fetches is fixed.
mvn_once() { mvn -B -q -Dstyle.color=never -o "$@" >&2 || mvn -B -q -Dstyle.color=never "$@" >&2; }

# The class path of the S3 test server (S3ServerMain, in pgbackup-s3's test classes): core and
# pgbackup-s3 compiled with their tests in one reactor run, their classes taken from target/.
s3_server_classpath() { # OUTFILE
  (cd "$repo" && mvn_once -DskipTests test-compile dependency:build-classpath -pl pgbackup-s3 -am \
    -DincludeScope=test -Dmdep.outputFile="$1") || return 1
  [ -d "$repo/pgbackup-s3/target/test-classes" ] || return 1
  printf '%s' "$repo/pgbackup-s3/target/test-classes:$repo/pgbackup-s3/target/classes:$(cat "$1")"
}

jar=$repo/pgbackup-cli/target/pgbackup.jar
build_cli() {
  command -v java >/dev/null || { log "java missing: no pgbackup rows"; return 1; }
  local m2=()
  [ -d /var/cache/pgbackup-ci/m2 ] && m2=(-Dmaven.repo.local=/var/cache/pgbackup-ci/m2)
  export MAVEN_OPTS="${MAVEN_OPTS:-} ${m2[*]}"
  # Measure the code in this checkout: rebuild when any main source or POM is newer than the jar.
  if [ ! -f "$jar" ] || [ -n "$(find "$repo"/pom.xml "$repo"/pgbackup-*/pom.xml "$repo"/pgbackup-core/src/main \
        "$repo"/pgbackup-cli/src/main -newer "$jar" -type f 2>/dev/null | head -1)" ]; then
    command -v mvn >/dev/null || { log "mvn missing and $jar is stale or absent: no pgbackup rows"; return 1; }
    log "building pgbackup (mvn -B -q -Dstyle.color=never -DskipTests package)"
    mvn_once -f "$repo/pom.xml" -DskipTests package || return 1
  fi
  chmod -R a+rX "$repo/bin" "$repo/pgbackup-cli/target" "$repo/pgbackup-core/target" "$repo/pgbackup-s3/target" 2>/dev/null || true
  # bin/pgbackup records a class-data-sharing archive next to the jar on its first run by a user
  # who can write target/ (the checkout's owner). The cluster user usually cannot, and would then
  # start every JVM without it: record it here, untimed, as the owner would have.
  "$repo/bin/pgbackup" --version >/dev/null 2>&1 || true
  chmod a+r "${jar%.jar}.jsa" 2>/dev/null || true
  as_pg test -r "$jar" || { log "$pg_user cannot read $jar (chmod -R a+rX the checkout)"; return 1; }
}
cds_active=false

# ---------------------------------------------------------------- cluster

start_cluster() {
  port=$(free_port)
  password="bench-$RANDOM$RANDOM"
  log "cluster: $bindir, port $port, work $work"
  mkdir -p "$sock" && chown "$pg_user" "$sock" 2>/dev/null || true
  printf '%s\n' "$password" >"$work/pwfile" && chown "$pg_user" "$work/pwfile" 2>/dev/null || true
  as_pg "$bindir/initdb" -D "$data" -U postgres --pwfile="$work/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C --data-checksums --no-sync >/dev/null
  rm -f "$work/pwfile"
  pg_major=$(as_pg "$bindir/postgres" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')
  pg_version=$(as_pg "$bindir/postgres" --version | sed -E 's/^[^0-9]*([0-9.]+).*/\1/')
  local keep_wal
  if [ "$pg_major" -ge 13 ]; then keep_wal="wal_keep_size = '4GB'"; else keep_wal="wal_keep_segments = 256"; fi
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
wal_level = replica
max_wal_senders = 10
max_wal_size = '8GB'
$keep_wal
shared_buffers = '128MB'
synchronous_commit = off
# On from the start, so that switching archive_command is a reload, not a restart.
archive_mode = on
archive_command = '/bin/true'
${extra_conf:-}
EOF
  pg_dirs+=("$data")
  as_pg "$bindir/pg_ctl" -D "$data" -l "$work/postgres.log" -w start >/dev/null
}

pgbench_init() { # SCALE
  log "pgbench -i -s $1"
  as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -i -s "$1" -q postgres >"$work/pgbench-init.log" 2>&1
  psql_pg -c "VACUUM ANALYZE" -c "CHECKPOINT"
  db_bytes=$(psql_pg -c "SELECT pg_database_size('postgres')")
  cluster_bytes=$(du -sb "$data" | cut -f1)
}

# set_archive_command CMD: a reload; the archiver uses it from its next segment on.
set_archive_command() {
  [ "${current_archive_command:-}" = "$1" ] && return 0
  psql_pg -c "ALTER SYSTEM SET archive_command = '${1//\'/\'\'}'" -c "SELECT pg_reload_conf()" >/dev/null
  current_archive_command=$1
}

# wait_archived: switches to a new segment and waits until the archiver has stored the last
# finished one with the current archive_command (its failures are retried; 600 s at most).
wait_archived() {
  local seg last i
  seg=$(psql_pg -c "SELECT pg_walfile_name(pg_switch_wal())")
  for i in $(seq 6000); do
    last=$(psql_pg -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
    if [ -n "$last" ] && [[ ! $last < $seg ]]; then return 0; fi
    # Seen on PostgreSQL 17: the segment named was never switched out (no .ready); switch again every 10 s.
    if [ $((i % 100)) = 0 ]; then psql_pg -c "SELECT pg_switch_wal()" >/dev/null; fi
    sleep 0.1
  done
  log "WAL $seg not archived after 600 s: $(psql_pg -c "SELECT last_failed_wal, last_failed_time FROM pg_stat_archiver")"
  return 1
}

# pgbackup's configuration as the spec defines it, for the cluster user; a command prefix for timed.
pgb_env() { # BACKUP_DIR [COMPRESS]
  pgb=(env PG_USER_NAME=postgres PG_PASSWORD="$password" PG_DB_NAME=postgres PG_HOST=127.0.0.1
    PG_PORT="$port" PG_BACKUP_DIR="$1" PG_BIN="$bindir" PGDATA="$data")
  [ -n "${2:-}" ] && pgb+=(PG_BACKUP_COMPRESS="$2")
  pgb+=("$repo/bin/pgbackup")
}
newest_backup() { ls -t "$1/base" 2>/dev/null | grep -v '^\.' | head -1; }

# ---------------------------------------------------------------- pgBackRest configuration

# pgbr_conf NAME COMPRESS-TYPE: a throwaway stanza "bench" for this cluster, repository
# $work/pgbr/NAME; writes $work/pgbr/NAME.conf. process-max = cores, start-fast as pgbackup's
# fast checkpoint; archive-check stays at its default (the backup waits until its WAL is archived,
# which is what makes a pgBackRest backup restorable).
pgbr_conf() {
  local name=$1 type=$2
  as_pg mkdir -p "$work/pgbr/log" "$work/pgbr/lock" "$work/pgbr/spool"
  cat >"$work/pgbr/$name.conf" <<EOF
[global]
repo1-path=$work/pgbr/$name
repo1-retention-full=9999
process-max=$cores
compress-type=$type
start-fast=y
log-path=$work/pgbr/log
lock-path=$work/pgbr/lock
spool-path=$work/pgbr/spool
log-level-console=warn
log-level-stderr=warn
log-level-file=info

[bench]
pg1-path=$data
pg1-port=$port
pg1-socket-path=$sock
pg1-user=postgres
EOF
  chmod 644 "$work/pgbr/$name.conf"
}
pgbr() { # NAME args... (as the cluster user, untimed)
  local name=$1; shift
  as_pg "$pgbackrest_bin" --config="$work/pgbr/$name.conf" --stanza=bench "$@"
}
pgbr_fresh_repo() { # NAME: empty repository plus stanza-create (untimed)
  rm -rf "${work:?}/pgbr/$1"
  pgbr "$1" stanza-create >"$work/pgbr/$1.stanza.log" 2>&1 || { cat "$work/pgbr/$1.stanza.log" >&2; return 1; }
}
pgbr_newest_backup() { ls "$work/pgbr/$1/backup/bench" 2>/dev/null | grep -E '^[0-9]{8}-[0-9]{6}F$' | sort | tail -1; }


# The spec's archive step, verbatim in spirit: gzip -c %p > tmp && mv tmp final (no fsync).
make_spec_script() { # PATH DEST
  cat >"$1" <<EOF
#!/bin/sh
set -e
gzip -c "\$1" > "$2/\$2.gz.tmp" && mv "$2/\$2.gz.tmp" "$2/\$2.gz"
EOF
  chmod 755 "$1"
}

# print_rows WIDTH: the table of every row recorded so far ($rows: label|seconds|bytes|rss KiB|note),
# the label column WIDTH wide, rss in MiB; a label starting with --- is a section heading.
print_rows() {
  local w=$1 r label sec bytes rss note rss_mib
  printf "\n%-${w}s %9s %12s %9s  %s\n" "row" "seconds" "bytes" "rss MiB" "note"
  for r in "${rows[@]}"; do
    IFS='|' read -r label sec bytes rss note <<<"$r"
    if [[ $label == ---* ]]; then printf '%s\n' "$label"; continue; fi
    rss_mib=$rss; [[ $rss =~ ^[0-9]+$ ]] && rss_mib=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
    printf "%-${w}s %9s %12s %9s  %s\n" "$label" "$sec" "$bytes" "$rss_mib" "$note"
  done
}
