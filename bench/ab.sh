#!/bin/sh
# Alternating A/B of 'pgbackup backup' with two CLI jars on one scale-50 pgbench cluster, as the
# cluster's OS user (initdb refuses root: run as root with 'runuser -u postgres -- bench/ab.sh ...').
#
#   bench/ab.sh JAR_A JAR_B [backup options, e.g. "--compress zstd"]
#
# Prints "a|b SECONDS STORED_BYTES" per run, 3 rounds. The cluster stays in AB_DIR (default
# /var/tmp/pgbackup-ab) for the next call; remove it when done. PG_BIN defaults to the newest
# /usr/lib/postgresql/*/bin.
set -eu
[ $# -ge 2 ] || { echo "usage: bench/ab.sh JAR_A JAR_B [backup options]" >&2; exit 2; }
jar_a=$1 jar_b=$2 opts=${3:-}
W=${AB_DIR:-/var/tmp/pgbackup-ab}
B=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
port=${AB_PORT:-55997}
if [ ! -d "$W/data" ]; then
  mkdir -p "$W/run"
  "$B/initdb" -D "$W/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
  printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nwal_level = replica\nmax_wal_senders = 10\n" \
    "$port" "$W/run" >> "$W/data/postgresql.conf"
  "$B/pg_ctl" -D "$W/data" -l "$W/pg.log" -w start >/dev/null
  "$B/pgbench" -h "$W/run" -p "$port" -U postgres -i -s 50 -q postgres >/dev/null 2>&1
  "$B/psql" -h "$W/run" -p "$port" -U postgres -q -c "VACUUM ANALYZE" -c "CHECKPOINT" postgres
fi
export PG_USER_NAME=postgres PG_DB_NAME=postgres PG_HOST=127.0.0.1 PG_PORT=$port PG_BIN=$B
for round in 1 2 3; do
  for which in a b; do
    if [ "$which" = a ]; then jar=$jar_a; else jar=$jar_b; fi
    rm -rf "$W/repo-$which" && mkdir -p "$W/repo-$which/base" "$W/repo-$which/wal_archive"
    export PG_BACKUP_DIR="$W/repo-$which"
    s=$(date +%s.%N)
    # shellcheck disable=SC2086 # options are words
    java -Xmx160m -XX:+UseSerialGC -jar "$jar" backup $opts >/dev/null
    e=$(date +%s.%N)
    echo "$which $(echo "$e - $s" | bc) $(du -sb "$W/repo-$which/base" | cut -f1)"
  done
done
