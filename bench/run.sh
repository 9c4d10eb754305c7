#!/usr/bin/env bash
# Backup performance harness: a throwaway PostgreSQL cluster with a pgbench database, measured
# with the spec's own commands (the baseline) and with pgbackup. Prints a table and, last, one
# JSON line; writes bench/results/latest.json.
#
#   bench/run.sh [--scale N] [--quick] [--runs N] [--keep]
#
#   --scale N  pgbench scale (default 50, about 750 MiB; --quick: 10)
#   --quick    small database, no block-size sweep: for iterating, not for the CHANGELOG
#   --runs N   timed repetitions per row, median reported (default and minimum 3)
#   --keep     keep the work directory (cluster, tars, WAL segments) and print its path
#
# Environment: PG_BIN (else pg_config --bindir, else the newest /usr/lib/postgresql/*/bin),
# BENCH_TMP (parent of the work directory, default /tmp), BENCH_USER (the OS user that runs the
# cluster when this runs as root, default postgres: initdb refuses root).
# Everything stays on this machine: the cluster listens on 127.0.0.1 and a private socket.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
scale=50
quick=false
runs=3
keep=false
scale_given=false
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=$2; scale_given=true; shift 2 ;;
    --quick) quick=true; shift ;;
    --runs) runs=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if $quick && ! $scale_given; then scale=10; fi
if [ "$runs" -lt 3 ]; then echo "run.sh: --runs must be at least 3 (the median needs them)" >&2; exit 2; fi

# ---------------------------------------------------------------- environment

if [ -n "${PG_BIN:-}" ]; then
  bindir=$PG_BIN
elif command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
else
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -x "$bindir/initdb" ] || { echo "run.sh: no PostgreSQL binaries (set PG_BIN)" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  pg_user=${BENCH_USER:-postgres}
  id "$pg_user" >/dev/null 2>&1 || { echo "run.sh: user $pg_user does not exist (initdb refuses root)" >&2; exit 1; }
  as_pg() { runuser -u "$pg_user" -- "$@"; }
else
  pg_user=$(id -un)
  as_pg() { "$@"; }
fi

if [ -x /usr/bin/time ]; then
  timer=/usr/bin/time
else
  timer=
  echo "run.sh: /usr/bin/time missing (apt-get install time): peak RSS will be null" >&2
fi

work=$(mktemp -d "${BENCH_TMP:-/tmp}/pgbackup-bench.XXXXXX")
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown "$pg_user" "$work"
data=$work/data
sock=$work/run
results_dir=$repo/bench/results
mkdir -p "$results_dir"

cleanup() {
  if [ -f "$data/postmaster.pid" ]; then
    as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if $keep; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "run.sh: no free port" >&2; exit 1
}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---------------------------------------------------------------- measuring

# timed OUT_PREFIX CMD...: runs CMD as the cluster user under /usr/bin/time; sets T_SECONDS, T_RSS_KB.
timed() {
  local tf="$work/time.$$"
  if [ -n "$timer" ]; then
    as_pg "$timer" -f '%e %M' -o "$tf" "$@" >"$work/cmd.out" 2>&1 || { cat "$work/cmd.out" >&2; return 1; }
    read -r T_SECONDS T_RSS_KB <"$tf"
  else
    local s e
    s=$(date +%s.%N)
    as_pg "$@" >"$work/cmd.out" 2>&1 || { cat "$work/cmd.out" >&2; return 1; }
    e=$(date +%s.%N)
    T_SECONDS=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }')
    T_RSS_KB=null
  fi
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

# Rows of the report: name, seconds, bytes, peak RSS, note. JSON keeps numbers or null.
rows=()
json_rows=()
add_row() { # key label seconds bytes rss_kb note
  local key=$1 label=$2 sec=$3 bytes=$4 rss=$5 note=${6:-}
  rows+=("$label|$sec|$bytes|$rss|$note")
  local j_sec=$sec j_bytes=$bytes j_rss=$rss
  [[ $sec =~ ^[0-9.]+$ ]] || j_sec=null
  [[ $bytes =~ ^[0-9]+$ ]] || j_bytes=null
  [[ $rss =~ ^[0-9]+$ ]] || j_rss=null
  json_rows+=("\"$key\":{\"label\":\"$label\",\"seconds\":$j_sec,\"bytes\":$j_bytes,\"peak_rss_kb\":$j_rss,\"note\":\"$note\"}")
}
absent_row() { add_row "$1" "$2" "n/a" "n/a" "n/a" "$3"; }

psql_pg() { as_pg "$bindir/psql" -h "$sock" -p "$port" -U postgres -d postgres -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# ---------------------------------------------------------------- cluster

port=$(free_port)
# Other people's work on a shared machine skews every row: the load is recorded with the results.
load_start=$(cut -d' ' -f1 /proc/loadavg)
password="bench-$RANDOM$RANDOM"
log "cluster: $bindir, scale $scale, port $port, work $work"
mkdir -p "$sock" && chown "$pg_user" "$sock" 2>/dev/null || true
printf '%s\n' "$password" >"$work/pwfile" && chown "$pg_user" "$work/pwfile" 2>/dev/null || true
as_pg "$bindir/initdb" -D "$data" -U postgres --pwfile="$work/pwfile" --auth-local=trust \
  --auth-host=scram-sha-256 -E UTF8 --locale=C --data-checksums --no-sync >/dev/null
rm -f "$work/pwfile"
pg_major=$(as_pg "$bindir/postgres" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')
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
# On from the start so that pgbackup init only has to set archive_command (a reload, not a restart).
archive_mode = on
archive_command = '/bin/true'
EOF
as_pg "$bindir/pg_ctl" -D "$data" -l "$work/postgres.log" -w start >/dev/null
log "pgbench -i -s $scale"
as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -i -s "$scale" -q postgres >"$work/pgbench-init.log" 2>&1
psql_pg -c "VACUUM ANALYZE" -c "CHECKPOINT"
db_bytes=$(psql_pg -c "SELECT pg_database_size('postgres')")
cluster_bytes=$(du -sb "$data" | cut -f1)

# ---------------------------------------------------------------- base backups: the spec's command

# Each run starts from a clean checkpoint and asks for a fast one: otherwise pg_basebackup waits
# for a spread checkpoint (minutes) and the row measures checkpoint_completion_target, not backup.
basebackup_row() { # key label extra-args...
  local key=$1 label=$2; shift 2
  local secs=() rss=() bytes=0 i out
  for i in $(seq "$runs"); do
    out=$work/bb-$key
    rm -rf "$out"
    psql_pg -c "CHECKPOINT"
    timed "$bindir/pg_basebackup" -h "$sock" -p "$port" -U postgres -D "$out" -Ft -X stream -c fast "$@"
    secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
    bytes=$(du -sb "$out" | cut -f1)
    if [ "$key" = pg_basebackup_tar ] && [ "$i" = "$runs" ]; then
      base_tar=$work/base.tar
      mv "$out/base.tar" "$base_tar"
    fi
    rm -rf "$out"
  done
  add_row "$key" "$label" "$(median "${secs[@]}")" "$bytes" "$(maxof "${rss[@]}")" "median of $runs"
}
log "pg_basebackup rows"
basebackup_row pg_basebackup_tar "pg_basebackup -Ft -X stream (no compression)"
basebackup_row pg_basebackup_tar_gzip "pg_basebackup -Ft -X stream -z (spec)" -z

# ---------------------------------------------------------------- compression of the real base tar

java_rows=null
build_core() {
  local m2=()
  [ -d /var/cache/pgbackup-ci/m2 ] && m2=(-Dmaven.repo.local=/var/cache/pgbackup-ci/m2)
  export MAVEN_OPTS="${MAVEN_OPTS:-} ${m2[*]}"
  local jar
  jar=$(ls "$repo"/pgbackup-core/target/pgbackup-core-*[0-9T].jar 2>/dev/null | head -1 || true)
  if [ -z "$jar" ] || [ -n "$(find "$repo/pgbackup-core/src/main" -newer "$jar" -type f | head -1)" ]; then
    log "building pgbackup-core (package, no tests)"
    (cd "$repo" && mvn -B -q -o package -DskipTests -pl pgbackup-core >&2) || (cd "$repo" && mvn -B -q package -DskipTests -pl pgbackup-core >&2)
    jar=$(ls "$repo"/pgbackup-core/target/pgbackup-core-*[0-9T].jar | head -1)
  fi
  local cpfile=$work/classpath.txt
  (cd "$repo" && { mvn -B -q -o org.apache.maven.plugins:maven-dependency-plugin:2.8:build-classpath -pl pgbackup-core \
      -DincludeScope=runtime -Dmdep.outputFile="$cpfile" >&2 \
    || mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:2.8:build-classpath -pl pgbackup-core \
      -DincludeScope=runtime -Dmdep.outputFile="$cpfile" >&2; })
  core_cp="$jar:$(cat "$cpfile")"
}
if command -v java >/dev/null && command -v mvn >/dev/null; then
  build_core
  log "Java compression benchmark on the base tar"
  sweep=()
  $quick || sweep=(--block-sizes 131072,524288,1048576)
  # A small heap proves the writers' memory is bounded whatever the input size.
  java -Xmx128m -cp "$core_cp" "$repo/bench/CompressionBench.java" --input "$base_tar" --work "$work" \
    --runs "$runs" "${sweep[@]}" --json "$work/compression.json" >"$work/compression.txt"
  java_rows=$(cat "$work/compression.json")
else
  log "java or mvn missing: no compression table"
fi

# External tools on the same tar, for reference: the spec's gzip and pigz.
tool_row() { # key label cmd...
  local key=$1 label=$2; shift 2
  local secs=() rss=() i
  command -v "$1" >/dev/null || { absent_row "$key" "$label" "not installed"; return; }
  for i in $(seq "$runs"); do
    timed sh -c "$* < '$base_tar' > '$work/tool.out'"
    secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
  done
  add_row "$key" "$label" "$(median "${secs[@]}")" "$(stat -c %s "$work/tool.out")" "$(maxof "${rss[@]}")" "base tar only"
  rm -f "$work/tool.out"
}
chmod 644 "$base_tar"
tool_row gzip6_base_tar "gzip -6 base.tar (single thread)" gzip -6 -c
tool_row pigz_base_tar "pigz -p $(nproc) -6 base.tar" pigz -p "$(nproc)" -6 -c

# ---------------------------------------------------------------- WAL: real segments

log "generating WAL with pgbench"
seg_size=$(psql_pg -c "SELECT setting::bigint * CASE unit WHEN '8kB' THEN 8192 WHEN 'B' THEN 1 ELSE 1048576 END FROM pg_settings WHERE name = 'wal_segment_size'")
start_seg=$(psql_pg -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
want=16
for _ in $(seq 60); do
  cur=$(psql_pg -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
  done_segs=$(psql_pg -c "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}\$' AND name >= '$start_seg' AND name < '$cur'")
  [ "$done_segs" -ge "$want" ] && break
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

# archive_row KEY LABEL SCRIPT DEST: runs SCRIPT %p %f per segment, RUNS passes; per-segment median.
archive_row() {
  local key=$1 label=$2 script=$3 dest=$4
  local secs=() rss=() pass seg
  for pass in $(seq "$runs"); do
    rm -rf "$dest" && mkdir -p "$dest" && chown "$pg_user" "$dest" 2>/dev/null || true
    for seg in "$wal_src"/*; do
      timed "$script" "$seg" "$(basename "$seg")"
      secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
    done
  done
  local bytes
  bytes=$(du -sb "$dest" | cut -f1)
  add_row "$key" "$label" "$(median "${secs[@]}")" "$((bytes / segments))" "$(maxof "${rss[@]}")" \
    "per segment, median of $((runs * segments)); ratio $(awk -v a="$wal_bytes" -v b="$bytes" 'BEGIN { printf "%.2f", a / b }')"
}
# The spec's archive step, verbatim in spirit: gzip -c %p > tmp && mv tmp final.
spec_script=$work/spec_archive.sh
cat >"$spec_script" <<EOF
#!/bin/sh
set -e
gzip -c "\$1" > "$work/wal_spec/\$2.gz.tmp" && mv "$work/wal_spec/\$2.gz.tmp" "$work/wal_spec/\$2.gz"
EOF
chmod 755 "$spec_script"
log "WAL archive rows"
archive_row wal_spec_gzip "archive: spec script (gzip -c > tmp && mv)" "$spec_script" "$work/wal_spec"

wal_java_rows=null
if [ "$java_rows" != null ]; then
  log "Java compression benchmark on the WAL segments"
  java -Xmx128m -cp "$core_cp" "$repo/bench/CompressionBench.java" --inputs-dir "$wal_src" --work "$work" \
    --runs "$runs" --json "$work/compression-wal.json" >"$work/compression-wal.txt"
  wal_java_rows=$(cat "$work/compression-wal.json")
fi

# ---------------------------------------------------------------- pgbackup (rows fill in as the CLI lands)

pgbackup=()
if [ -x "$repo/bin/pgbackup" ]; then
  pgbackup=("$repo/bin/pgbackup")
elif [ -f "$repo/pgbackup-cli/target/pgbackup.jar" ]; then
  pgbackup=(java -jar "$repo/pgbackup-cli/target/pgbackup.jar")
fi
backup_dir=$work/repo
# The spec's configuration, as the cluster user sees it; "${pgb[@]}" is a command prefix for timed.
pgb=(env PG_USER_NAME=postgres PG_PASSWORD="$password" PG_DB_NAME=postgres PG_HOST=127.0.0.1
  PG_PORT="$port" PG_BACKUP_DIR="$backup_dir" PG_BIN="$bindir" PGDATA="$data" "${pgbackup[@]}")
pgbackup_rows() {
  mkdir -p "$backup_dir" && chown "$pg_user" "$backup_dir" 2>/dev/null || true
  if ! as_pg "${pgb[@]}" init >"$work/pgbackup-init.log" 2>&1; then
    return 1
  fi
  local archive="$backup_dir/scripts/archive_wal.sh"
  if [ -x "$archive" ]; then
    archive_row wal_pgbackup_archive_sh "archive: pgbackup archive_wal.sh" "$archive" "$backup_dir/wal_archive"
    psql_pg -c "ALTER SYSTEM SET archive_command = '$archive %p %f'" -c "SELECT pg_reload_conf()" >/dev/null
  else
    absent_row wal_pgbackup_archive_sh "archive: pgbackup archive_wal.sh" "init installed no script"
  fi
  local c secs rss i id last_id=
  for c in gzip zstd lz4 none; do
    secs=(); rss=()
    for i in $(seq "$runs"); do
      psql_pg -c "CHECKPOINT"
      if ! timed "${pgb[@]}" backup --compress "$c"; then
        absent_row "pgbackup_backup_$c" "pgbackup backup --compress $c" "failed"; continue 2
      fi
      secs+=("$T_SECONDS"); rss+=("$T_RSS_KB")
      id=$(ls -t "$backup_dir/base" | head -1)
      if [ "$i" != "$runs" ]; then rm -rf "${backup_dir:?}/base/$id"; fi
    done
    add_row "pgbackup_backup_$c" "pgbackup backup --compress $c" "$(median "${secs[@]}")" \
      "$(du -sb "$backup_dir/base/$id" | cut -f1)" "$(maxof "${rss[@]}")" "median of $runs"
    [ "$c" = gzip ] && last_id=$id
  done
  [ -n "$last_id" ] || return 0
  psql_pg -c "SELECT pg_create_restore_point('bench')" -c "SELECT pg_switch_wal()" >/dev/null
  local target=$work/restored
  if timed "${pgb[@]}" restore "$last_id" --target-name bench --target-dir "$target"; then
    add_row pgbackup_restore "pgbackup restore (gzip backup)" "$T_SECONDS" "$(du -sb "$target" | cut -f1)" "$T_RSS_KB" "extract only"
  else
    absent_row pgbackup_restore "pgbackup restore (gzip backup)" "failed"
  fi
  local v
  for v in plain restore-test; do
    local args=(verify "$last_id"); [ "$v" = restore-test ] && args+=(--restore-test)
    if timed "${pgb[@]}" "${args[@]}"; then
      add_row "pgbackup_verify_${v//-/_}" "pgbackup ${args[*]}" "$T_SECONDS" "n/a" "$T_RSS_KB" ""
    else
      absent_row "pgbackup_verify_${v//-/_}" "pgbackup ${args[*]}" "failed"
    fi
  done
}
if [ ${#pgbackup[@]} -gt 0 ] && pgbackup_rows; then
  :
else
  why="not built"; [ ${#pgbackup[@]} -gt 0 ] && why="init failed"
  absent_row wal_pgbackup_archive_sh "archive: pgbackup archive_wal.sh" "$why"
  for c in gzip zstd lz4 none; do absent_row "pgbackup_backup_$c" "pgbackup backup --compress $c" "$why"; done
  absent_row pgbackup_restore "pgbackup restore (gzip backup)" "$why"
  absent_row pgbackup_verify_plain "pgbackup verify ID" "$why"
  absent_row pgbackup_verify_restore_test "pgbackup verify ID --restore-test" "$why"
fi

if command -v pgbackrest >/dev/null; then
  absent_row pgbackrest_backup "pgBackRest full backup" "installed; this harness does not configure a stanza yet"
else
  absent_row pgbackrest_backup "pgBackRest full backup" "not installed"
fi

# ---------------------------------------------------------------- report

printf '\n%-48s %9s %12s %9s  %s\n' "row" "seconds" "bytes" "rss MiB" "note"
for r in "${rows[@]}"; do
  IFS='|' read -r label sec bytes rss note <<<"$r"
  rss_mib=$rss; [[ $rss =~ ^[0-9]+$ ]] && rss_mib=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
  printf '%-48s %9s %12s %9s  %s\n' "$label" "$sec" "$bytes" "$rss_mib" "$note"
done
for t in compression compression-wal; do
  if [ -f "$work/$t.txt" ]; then
    printf '\n%s (bench/CompressionBench.java, JVM -Xmx128m; rss is the whole JVM'"'"'s)\n' "$t"
    cat "$work/$t.txt"
  fi
done

joined=$(IFS=,; echo "${json_rows[*]}")
json=$(printf '{"timestamp":"%s","host":{"nproc":%d,"mem_kb":%d,"load_1m_start":%s,"load_1m_end":%s,"pg_version":"%s"},"params":{"scale":%d,"runs":%d,"quick":%s,"checkpoint":"fast"},"database_bytes":%d,"cluster_bytes":%d,"wal":{"segments":%d,"segment_bytes":%d},"rows":{%s},"compression_base_tar":%s,"compression_wal":%s}' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
  "$load_start" "$(cut -d' ' -f1 /proc/loadavg)" "$(as_pg "$bindir/postgres" --version | sed -E 's/^[^0-9]*([0-9.]+).*/\1/')" \
  "$scale" "$runs" "$quick" "$db_bytes" "$cluster_bytes" "$segments" "$seg_size" "$joined" "$java_rows" "$wal_java_rows")
printf '%s\n' "$json" >"$results_dir/latest.json"
printf '%s\n' "$json"
