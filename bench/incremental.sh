# incremental.sh: the rows of issue 18 (incremental backups, chain and delta restore), sourced by
# bench/run.sh after lib.sh: `bench/run.sh --incremental [--scale N] [--runs N]` runs only these,
# the full run adds them after its verify rows. Needs a started cluster with a pgbench database
# ($port, $sock, $data, $db_bytes) and the CLI (pgb_env). Sets the INCR_* ratios and INCR_NOTE.
# shellcheck shell=bash

# A change of about 2% of the database, as the issue asks at scale 50 (2,000 pgbench transactions
# and ~10 MB of inserts), proportional to the scale: 40 transactions and 700 rows per scale unit
# (measured ~290 bytes a row with its index), into one table that grows with every change.
incr_change() {
  as_pg "$bindir/pgbench" -h "$sock" -p "$port" -U postgres -n -c 2 -j 2 -t $((20 * scale)) postgres \
    >>"$work/pgbench-incr.log" 2>&1
  psql_pg -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS bench_incr (id bigserial PRIMARY KEY, pad text)" \
    -c "INSERT INTO bench_incr (pad) SELECT repeat(md5(g::text), 2) FROM generate_series(1, $((700 * scale))) g" >/dev/null
}

# incr_backup TYPE: one timed backup of TYPE into the incremental repository; sets BK_ID (the new
# backup's id) and BK_TYPE (the type it was stored as: a refused incremental falls back to a full).
incr_backup() {
  local before after
  before=$(ls "$incr_repo/base" 2>/dev/null | grep -v '^\.' | sort || true)
  wait_archived
  psql_pg -c "CHECKPOINT"
  timed "${pgb[@]}" backup --type "$1" --checkpoint fast || return 1
  after=$(ls "$incr_repo/base" | grep -v '^\.' | sort)
  BK_ID=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | tail -1)
  BK_TYPE=$(as_pg "${pgb[@]}" list 2>/dev/null | awk -v id="$BK_ID" '$1 == id { print $2 }' || true)
  [ -n "$BK_ID" ] || { T_ERROR="no new backup in $incr_repo/base"; return 1; }
}
incr_bytes() { du -sb "$incr_repo/base/$1" | cut -f1; }

# incr_restore ID DIR [--delta]: timed restore of ID (its whole chain) into DIR, to the backup's
# consistent point. Only the restore command is timed: starting the copy would replay different
# WAL for a full and for an incremental taken at the same state, which is not what is compared.
incr_restore() {
  local id=$1 d=$2; shift 2
  timed "${pgb[@]}" restore "$id" --target immediate --target-action promote --target-dir "$d" "$@"
}

incremental_rows() {
  INCR_NOTE=
  incr_size_vs_full=null incr_time_vs_full=null incr17_time_vs_full=null diff_size_vs_full=null
  chain_restore_vs_full=null delta_restore_vs_full=null incr_peak_rss_mib=null chain_restore_peak_rss_mib=null
  incr_time_vs_ceiling=null incr17_size_vs_full=null many_relations_incr_peak_rss_mib=null
  many_relations_restore_peak_rss_mib=null
  section "incremental (issue 18): after a full, a change of ~2% ($((40 * scale)) pgbench transactions + $((700 * scale)) rows)"
  if ! $have_pgbackup; then
    for k in incr_full incr_incr incr_diff incr_restore_full incr_restore_chain incr_restore_delta; do
      absent_row "pgbackup_$k" "$k" "pgbackup not built"
    done
    return 0
  fi
  incr_repo=$work/incr-repo
  mkdir_pg "$incr_repo"
  pgb_env "$incr_repo"
  if ! as_pg "${pgb[@]}" init >"$work/pgbackup-init-incr.log" 2>&1; then
    absent_row pgbackup_incr_full "incremental rows" "init failed: $(tail -1 "$work/pgbackup-init-incr.log")"; return 0
  fi
  set_archive_command "$incr_repo/scripts/archive_wal.sh %p %f"
  psql_pg -c "VACUUM" -c "CHECKPOINT"

  # Rounds: ceiling (pg_basebackup -Ft, the uncompressed copy), full, the change, incr, diff.
  # incr and diff see the same change (both against that round's full): their sizes should match.
  local i secs_c=() secs_f=() secs_i=() secs_d=() rss_f=() rss_i=() rss_d=() by_f=() by_i=() by_d=() fail= types=()
  for i in $(seq "$runs"); do
    rm -rf "$work/incr-ceiling"
    wait_archived; psql_pg -c "CHECKPOINT"
    timed "$bindir/pg_basebackup" -h "$sock" -p "$port" -U postgres -D "$work/incr-ceiling" -Ft -X stream -c fast \
      || { fail="ceiling: $T_ERROR"; break; }
    secs_c+=("$T_SECONDS"); rm -rf "$work/incr-ceiling"
    incr_backup full || { fail="full: $T_ERROR"; break; }
    secs_f+=("$T_SECONDS"); rss_f+=("$T_RSS_KB"); by_f+=("$(incr_bytes "$BK_ID")")
    incr_change
    incr_backup incr || { fail="incr: $T_ERROR"; break; }
    secs_i+=("$T_SECONDS"); rss_i+=("$T_RSS_KB"); by_i+=("$(incr_bytes "$BK_ID")"); types+=("incr=$BK_TYPE")
    incr_backup diff || { fail="diff: $T_ERROR"; break; }
    secs_d+=("$T_SECONDS"); rss_d+=("$T_RSS_KB"); by_d+=("$(incr_bytes "$BK_ID")"); types+=("diff=$BK_TYPE")
  done
  if [ -n "$fail" ]; then
    absent_row pgbackup_incr_backup "pgbackup backup --type incr" "failed: $fail"
  else
    local stored; stored=$(printf '%s\n' "${types[@]}" | sort -u | tr '\n' ' ')
    add_row pg_basebackup_tar_incr_round "pg_basebackup -Ft -X stream (ceiling)" "$(median "${secs_c[@]}")" n/a n/a "median of $runs, same rounds"
    add_row pgbackup_incr_full "pgbackup backup --type full" "$(median "${secs_f[@]}")" "$(median "${by_f[@]}")" "$(maxof "${rss_f[@]}")" "median of $runs"
    add_row pgbackup_incr_incr "pgbackup backup --type incr" "$(median "${secs_i[@]}")" "$(median "${by_i[@]}")" "$(maxof "${rss_i[@]}")" "median of $runs; stored as: $stored"
    add_row pgbackup_incr_diff "pgbackup backup --type diff" "$(median "${secs_d[@]}")" "$(median "${by_d[@]}")" "$(maxof "${rss_d[@]}")" "median of $runs; same change as the incr"
    incr_size_vs_full=$(ratio "$(median "${by_i[@]}")" "$(median "${by_f[@]}")" 3)
    diff_size_vs_full=$(ratio "$(median "${by_d[@]}")" "$(median "${by_f[@]}")" 3)
    incr_time_vs_full=$(ratio "$(median "${secs_i[@]}")" "$(median "${secs_f[@]}")")
    incr_time_vs_ceiling=$(ratio "$(median "${secs_i[@]}")" "$(median "${secs_c[@]}")")
    incr_peak_rss_mib=$(ratio "$(maxof "${rss_i[@]}" "${rss_d[@]}")" 1024 1)
  fi

  # A chain of 7 (a full and 6 incrs, a change before each incr), then a full of the same state as
  # the 7th: restoring the chain against restoring that full writes the same database.
  local ids=() c
  incr_backup full || { absent_row pgbackup_incr_chain "chain of 7" "full failed: $T_ERROR"; return 0; }
  ids+=("$BK_ID")
  for c in 2 3 4 5 6 7; do
    incr_change
    incr_backup incr || { absent_row pgbackup_incr_chain "chain of 7" "incr $c failed: $T_ERROR"; return 0; }
    ids+=("$BK_ID")
  done
  local chain_id=${ids[6]} prev_id=${ids[5]} full_id
  incr_backup full || { absent_row pgbackup_incr_chain "chain of 7" "full failed: $T_ERROR"; return 0; }
  full_id=$BK_ID
  local chain_bytes=0 id
  for id in "${ids[@]}"; do chain_bytes=$((chain_bytes + $(incr_bytes "$id"))); done
  # The copy a delta restore rewrites: the database one change ago (the chain's 6th backup), kept
  # pristine and copied back before each round (untimed).
  local copy=$work/incr-copy
  rm -rf "$copy"
  incr_restore "$prev_id" "$copy" || { absent_row pgbackup_incr_restore_delta "delta" "copy: $T_ERROR"; return 0; }
  local rs_f=() rs_c=() rs_d=() rss_rf=() rss_rc=() rss_rd=() d=$work/incr-restore rfail=
  for i in $(seq "$runs"); do
    rm -rf "$d"; incr_restore "$full_id" "$d" || { rfail="full: $T_ERROR"; break; }
    rs_f+=("$T_SECONDS"); rss_rf+=("$T_RSS_KB"); local full_restored; full_restored=$(du -sb "$d" | cut -f1)
    rm -rf "$d"; incr_restore "$chain_id" "$d" || { rfail="chain: $T_ERROR"; break; }
    rs_c+=("$T_SECONDS"); rss_rc+=("$T_RSS_KB")
    rm -rf "$d"; as_pg cp -a "$copy" "$d"
    # The newest incr (the chain of 7) onto the copy of the 6th: what re-seeding a test copy costs.
    incr_restore "$chain_id" "$d" --delta || { rfail="delta: $T_ERROR"; break; }
    rs_d+=("$T_SECONDS"); rss_rd+=("$T_RSS_KB")
  done
  rm -rf "$d" "$copy"
  if [ -n "$rfail" ]; then
    absent_row pgbackup_incr_restore "incremental restore rows" "failed: $rfail"; return 0
  fi
  add_row pgbackup_incr_restore_full "pgbackup restore (full of the same state)" "$(median "${rs_f[@]}")" "$full_restored" "$(maxof "${rss_rf[@]}")" \
    "median of $runs; restore command only, --target immediate; full backup $(incr_bytes "$full_id") bytes"
  add_row pgbackup_incr_restore_chain "pgbackup restore (chain of 7: full + 6 incr)" "$(median "${rs_c[@]}")" "$chain_bytes" "$(maxof "${rss_rc[@]}")" \
    "median of $runs; bytes = the 7 stored backups"
  add_row pgbackup_incr_restore_delta "pgbackup restore --delta (chain of 7, over a copy of the 6th)" "$(median "${rs_d[@]}")" n/a "$(maxof "${rss_rd[@]}")" \
    "median of $runs; copy = restore of the chain's 6th backup, never started"
  chain_restore_vs_full=$(ratio "$(median "${rs_c[@]}")" "$(median "${rs_f[@]}")")
  delta_restore_vs_full=$(ratio "$(median "${rs_d[@]}")" "$(median "${rs_f[@]}")")
  chain_restore_peak_rss_mib=$(ratio "$(maxof "${rss_rc[@]}")" 1024 1)
  section "incremental: many relations (peak RSS must not grow with them)"
  many_relations_rows
  # The summaries path (PG 17+, summarize_wal, UPLOAD_MANIFEST + BASE_BACKUP INCREMENTAL) on a
  # cluster of its own, last (it swaps the cluster globals while it runs).
  section "incremental: PostgreSQL 17 with summarize_wal = on"
  if grep -rqs UPLOAD_MANIFEST "$repo/pgbackup-core/src/main"; then
    incr17_rows
  else
    INCR_NOTE="incr17_time_vs_full is null: this checkout has no summaries path (no UPLOAD_MANIFEST in pgbackup-core); every version takes the page-LSN path"
  fi
}

incr_ratio_names=(incr_size_vs_full incr_time_vs_full incr_time_vs_ceiling incr17_time_vs_full incr17_size_vs_full
  chain_restore_vs_full delta_restore_vs_full incr_peak_rss_mib chain_restore_peak_rss_mib
  many_relations_incr_peak_rss_mib many_relations_restore_peak_rss_mib)
# incr_time_vs_full's 0.15 target is for the summaries path (17+); on 12-16 the target is
# incr_time_vs_ceiling <= 1 (below pg_basebackup -Ft): the page-LSN path reads every file.
declare -A incr_target=([incr_size_vs_full]='<= 0.15' [incr_time_vs_full]='<= 0.15' [incr_time_vs_ceiling]='<= 1.0'
  [incr17_time_vs_full]='<= 0.15' [chain_restore_vs_full]='<= 1.2' [delta_restore_vs_full]='<= 0.25'
  [incr_peak_rss_mib]='<= 256' [chain_restore_peak_rss_mib]='<= 256' [incr17_size_vs_full]='<= 0.15'
  [many_relations_incr_peak_rss_mib]='<= 256' [many_relations_restore_peak_rss_mib]='<= 256')

. "$repo/bench/incremental-more.sh"
