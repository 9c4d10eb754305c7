#!/usr/bin/env bash
# Listing at scale against a bucket: status, list, restore --dry-run and cleanup --dry-run through
# the CLI jar, reading the in-process S3 server (s3proxy over HTTP, filesystem backend, 1,000 keys a
# page) that holds N archived WAL segment keys and one real backup. Reports seconds and the
# ListObjects requests per command, as the server counted them; writes bench/results/s3_listing.json.
#
#   bench/s3_listing.sh [--segments N] [--runs N] [--backend memory|filesystem] [--jar CLI.jar] [--keep]
#
#   --segments N  tiny segment objects planted on timeline 1 before the cluster's WAL (default 100000)
#   --runs N      timed repetitions per command, median reported (default 1: a status pass over
#                 100,000 keys is tens of seconds on this server)
#   --backend B   the server's store: memory (default; jclouds' transient store) or filesystem (the
#                 tests' backend, which reads every file's attributes for each 1,000-key page: a pass
#                 over N keys costs it N^2/1,000, so it measures s3proxy more than pgbackup)
#   --jar CLI.jar also time these commands with another build's jar (java -jar), e.g. an older one,
#                 on the same bucket, one run each: its rows are marked "(other jar)"
#   --keep        keep the work directory and print its path
#
# The throwaway cluster starts its WAL past the planted range (pg_resetwal -l), so the planted keys
# are old archived WAL before the backup, as on a server that has archived for a long time.
# Environment: PG_BIN, BENCH_TMP, BENCH_USER as for bench/run.sh.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
segments=100000
runs=1
backend=memory
other_jar=
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --segments) segments=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --jar) other_jar=$(readlink -f "$2"); shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "s3_listing.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $segments =~ ^[0-9]+$ && $runs =~ ^[1-9][0-9]*$ ]] || { echo "s3_listing.sh: --segments and --runs take numbers" >&2; exit 2; }
case $backend in memory) store=(--in-memory) ;; filesystem) store=() ;; *) echo "s3_listing.sh: --backend is memory or filesystem" >&2; exit 2 ;; esac

if [ -n "${PG_BIN:-}" ]; then bindir=$PG_BIN
else bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); fi
[ -x "$bindir/initdb" ] || { echo "s3_listing.sh: no PostgreSQL binaries (set PG_BIN)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  pg_user=${BENCH_USER:-postgres}
  as_pg() { runuser -u "$pg_user" -- "$@"; }
else
  pg_user=$(id -un)
  as_pg() { "$@"; }
fi
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

work=$(mktemp -d "${BENCH_TMP:-/tmp}/pgbackup-s3list.XXXXXX")
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown "$pg_user" "$work"
data=$work/data
sock=$work/run
s3_pid=
cleanup() {
  [ -f "$data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  if [ -n "$s3_pid" ]; then echo quit >&"${S3[1]}" 2>/dev/null || true; wait "$s3_pid" 2>/dev/null || true; fi
  if $keep; then echo "s3_listing.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- build: the CLI jar, and core's test classpath for the server

# Offline first; online once on a fresh machine (plugin versions are pinned in the pom).
mvn_once() { mvn -B -q -Dstyle.color=never -o "$@" >&2 || mvn -B -q -Dstyle.color=never "$@" >&2; }
log "building the CLI jar and pgbackup-s3's test classes (mvn -DskipTests)"
(cd "$repo" && mvn_once -DskipTests package -pl pgbackup-cli -am)
(cd "$repo" && mvn_once -DskipTests test-compile dependency:build-classpath -pl pgbackup-s3 -am \
  -DincludeScope=test -Dmdep.outputFile="$work/cp.txt")
server_cp="$repo/pgbackup-s3/target/test-classes:$repo/pgbackup-s3/target/classes:$(cat "$work/cp.txt")"
chmod -R a+rX "$repo/bin" "$repo/pgbackup-cli/target" "$repo/pgbackup-core/target" "$repo/pgbackup-s3/target" 2>/dev/null || true

# ---------------------------------------------------------------- the S3 server, with the planted archive

log "starting the S3 server and planting $segments segment keys"
[ "$backend" = filesystem ] && store=(--dir "$work/s3")
coproc S3 { exec java -Xmx1g -cp "$server_cp" io.pgbackup.s3.testing.S3ServerMain "${store[@]}" --plant-wal "$segments" --prefix bench 2>"$work/s3.log"; }
s3_pid=$S3_PID
s3_env=(PG_BACKUP_S3_PREFIX=bench PG_BACKUP_S3_REGION=us-east-1)
while read -r line <&"${S3[0]}"; do
  [ "$line" = ready ] && break
  s3_env+=("$line")
done
[ "$line" = ready ] || { cat "$work/s3.log" >&2; echo "s3_listing.sh: the S3 server did not start" >&2; exit 1; }
s3() { echo "$1" >&"${S3[1]}"; read -r S3_REPLY <&"${S3[0]}"; }
cat "$work/s3.log" >&2

# ---------------------------------------------------------------- a cluster whose WAL starts past the planted keys, one backup

first_log=$(printf '%08X' $(( (segments >> 8) + 2 )))
port=$(shuf -i 20000-60000 -n 1)
mkdir -p "$sock" && chown "$pg_user" "$sock" 2>/dev/null || true
as_pg "$bindir/initdb" -D "$data" -U postgres --auth-local=trust -E UTF8 --locale=C --no-sync >/dev/null
as_pg "$bindir/pg_resetwal" -l "00000001${first_log}00000000" "$data" >/dev/null
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = ''
port = $port
unix_socket_directories = '$sock'
wal_level = replica
max_wal_senders = 4
archive_mode = on
archive_command = '/bin/true'
EOF
as_pg "$bindir/pg_ctl" -D "$data" -l "$work/postgres.log" -w start >/dev/null
pgb=(env PG_USER_NAME=postgres PG_DB_NAME=postgres PG_HOST="$sock" PG_PORT="$port" PG_BACKUP_DIR="$work/repo"
  PG_BIN="$bindir" PGDATA="$data" "${s3_env[@]}" "$repo/bin/pgbackup")
as_pg mkdir -m 700 "$work/repo"
as_pg "${pgb[@]}" init >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
as_pg "$bindir/psql" -h "$sock" -p "$port" -U postgres -d postgres -X -q -c \
  "ALTER SYSTEM SET archive_command = '$work/repo/scripts/archive_wal.sh %p %f'" -c "SELECT pg_reload_conf()" >/dev/null
as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
log "one backup (copied to the bucket inline)"
as_pg "${pgb[@]}" backup --checkpoint fast >"$work/backup.log" 2>&1 || { cat "$work/backup.log" >&2; exit 1; }
as_pg "${pgb[@]}" sync --to s3 >"$work/sync.log" 2>&1 || { cat "$work/sync.log" >&2; exit 1; }

# ---------------------------------------------------------------- the rows

rows=()
json=()
cli=("${pgb[@]}")
row() { # KEY ARGS...: RUNS timed runs as the cluster user, reading the bucket; the request counts of the last
  local key=$1; shift
  local secs=() t0 rc
  for _ in $(seq "$runs"); do
    s3 reset
    t0=$(now)
    rc=0
    as_pg "${cli[@]}" "$@" >"$work/$key.out" 2>&1 || rc=$?
    secs+=("$(awk -v s="$t0" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }')")
    s3 count
  done
  # status exits 1 on a FAIL verdict, which is not a failure of the command; anything else is.
  if [ "$rc" -ne 0 ] && [ "$key" != status ]; then tail -3 "$work/$key.out" >&2; fi
  local sec lists wal_lists walks
  sec=$(median "${secs[@]}")
  lists=$(sed -E 's/.*(^| )lists=([0-9]+).*/\2/' <<<"$S3_REPLY")
  wal_lists=$(sed -E 's/.*wal_lists=([0-9]+).*/\1/' <<<"$S3_REPLY")
  walks=$(sed -E 's/.*wal_walks=([0-9]+).*/\1/' <<<"$S3_REPLY")
  local shown="$*"
  rows+=("$(printf '%-48s %8s %8s %10s %10s  exit %s' "pgbackup ${shown//$work\/restored/DIR}$label" "$sec" "$lists" "$wal_lists" "$walks" "$rc")")
  json+=("\"$key\":{\"seconds\":$sec,\"list_requests\":$lists,\"wal_list_requests\":$wal_lists,\"whole_archive_pages\":$walks,\"exit\":$rc}")
}
commands() { # KEY-SUFFIX
  row "status$1" status --repo s3
  row "list$1" list --repo s3
  row "restore_dry_run$1" restore --repo s3 --dry-run --target-dir "$work/restored"
  row "cleanup_dry_run$1" cleanup --repo s3 --dry-run
}
log "timing the commands against $segments planted keys + the cluster's own WAL ($runs run(s) each)"
# Untimed: one pass warms the server's JIT, so the first timed command is not the one that pays for it.
s3 reset; as_pg "${pgb[@]}" cleanup --repo s3 --dry-run >/dev/null 2>&1 || true
label=
timed_runs=$runs
commands ""
if [ -n "$other_jar" ]; then
  as_pg test -r "$other_jar" || { echo "s3_listing.sh: $pg_user cannot read $other_jar" >&2; exit 1; }
  cli=("${pgb[@]:0:${#pgb[@]}-1}" java -Xmx160m -XX:+UseSerialGC -jar "$other_jar")
  label=" (other jar)"
  runs=1 # the request counts are the point, and an older build's passes are long
  commands _other_jar
fi

pages=$(( (segments + 999) / 1000 ))
printf '\n%-48s %8s %8s %10s %10s\n' command seconds LISTs "WAL LISTs" "whole-WAL"
printf '%s\n' "${rows[@]}"
printf '(%s planted segment keys, one pass over the WAL archive = %s+ pages; %s backend; %s run(s), median (other jar: 1); %s cores, load %s)\n' \
  "$segments" "$pages" "$backend" "$timed_runs" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)"
out=$(printf '{"timestamp":"%s","other_jar":"%s","segments":%d,"backend":"%s","runs":%d,"nproc":%d,"load_1m":%s,"commands":{%s}}' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$other_jar" "$segments" "$backend" "$timed_runs" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$(IFS=,; echo "${json[*]}")")
mkdir -p "$repo/bench/results"
printf '%s\n' "$out" >"$repo/bench/results/s3_listing.json"
printf '%s\n' "$out"
