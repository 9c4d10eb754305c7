#!/usr/bin/env bash
# archive_pass.sh OUT SRC_DIR CMD...: one timed pass of an archive command, for run.sh.
# Runs "CMD SEGMENT NAME" for every file of SRC_DIR, as PostgreSQL's archiver runs
# archive_command (%p %f), and writes one line per segment to OUT: wall seconds (bash's clock, no
# fork around the call) and the call's peak RSS in KiB (/usr/bin/time, else null).
# Stops at the first failure, printing the command's last output line on stderr.
set -u
export LC_ALL=C
out=$1 src=$2
shift 2
: >"$out"
wrap=()
[ -x /usr/bin/time ] && wrap=(/usr/bin/time -f %M -o "$out.rss")
for seg in "$src"/*; do
  s=${EPOCHREALTIME/./}
  if ! "${wrap[@]}" "$@" "$seg" "${seg##*/}" >"$out.log" 2>&1; then
    grep -v '^Command exited' "$out.log" | tail -1 >&2
    exit 1
  fi
  e=${EPOCHREALTIME/./}
  us=$((e - s))
  kb=null
  [ ${#wrap[@]} -gt 0 ] && read -r kb <"$out.rss"
  printf '%d.%06d %s\n' $((us / 1000000)) $((us % 1000000)) "$kb" >>"$out"
done
rm -f "$out.rss" "$out.log"
