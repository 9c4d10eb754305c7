#!/bin/sh
# Builds a repository with pgbackup 0458bc6 (before the storage seam): the fixture for LegacyRepositoryTest.
set -eu
W=/var/tmp/legacy
B=/usr/lib/postgresql/15/bin
JAR=/var/tmp/bench-before/pgbackup-cli/target/pgbackup.jar
port=55998
$B/initdb -D $W/data -U pgbackup_test --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
mkdir -p $W/run
export PG_USER_NAME=pgbackup_test PG_DB_NAME=postgres PG_HOST=127.0.0.1 PG_PORT=$port PG_BACKUP_DIR=$W/repo PG_BIN=$B
java -jar $JAR init >/dev/null
cat >> $W/data/postgresql.conf <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$W/run'
wal_level = replica
archive_mode = on
archive_command = '$W/repo/scripts/archive_wal.sh %p %f'
max_wal_senders = 4
CONF
$B/pg_ctl -D $W/data -l $W/pg.log -w start >/dev/null
P="$B/psql -h $W/run -p $port -U pgbackup_test -d postgres -qAt"
$P -c "CREATE TABLE orders(id int primary key, note text); INSERT INTO orders SELECT g, 'before backup ' || g FROM generate_series(1, 1000) g;"
java -jar $JAR backup >/dev/null
$P -c "INSERT INTO orders SELECT g, 'after backup ' || g FROM generate_series(1001, 1500) g;"
$P -c "SELECT pg_switch_wal();" >/dev/null
sleep 3
$P -c "SELECT count(*), md5(string_agg(id::text || note, ',' ORDER BY id)) FROM orders" > $W/repo-expected.txt
$B/pg_ctl -D $W/data -w stop >/dev/null
ls -la $W/repo/wal_archive $W/repo/base/*
cat $W/repo-expected.txt
