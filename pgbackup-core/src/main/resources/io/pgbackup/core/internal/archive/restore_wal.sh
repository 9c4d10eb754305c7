#!/bin/sh
# restore_wal.sh: PostgreSQL's restore_command for the pgbackup repository below.
#
#   restore_command = '<this script> %f %p'
#
# Written by 'pgbackup init' (pgbackup @@VERSION@@). Do not edit: init rewrites it.
#
# PostgreSQL runs this once per WAL file during recovery, so it is plain POSIX sh, not a JVM.
# Exit codes carry meaning for PostgreSQL:
#   0    %f was restored to %p;
#   1    %f is not in the archive: normal, it is how recovery learns that the archive ends here
#        (and most .history files it asks for do not exist), so nothing is printed;
#   126  %f is in the archive but cannot be restored (damaged, decompressor missing, disk full).
#        PostgreSQL treats an exit code above 125 as fatal and stops, instead of silently ending
#        recovery early and promoting without the rest of the WAL.

set -u
umask 077
PATH="${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin"
# The configuration file init read (--config / PG_BACKUP_CONFIG; empty: none), for the pgbackup started here.
PG_BACKUP_CONFIG=@@CONFIG_FILE@@; export PG_BACKUP_CONFIG

BACKUP_DIR=@@BACKUP_DIR@@
ARCHIVE_DIR=$BACKUP_DIR/wal_archive
# The S3 bucket (S3_BUCKET empty: none): a file neither prefetched nor in ARCHIVE_DIR is fetched
# from it with 'pgbackup wal-fetch'. Credentials come from the AWS SDK's chain, never from here.
@@S3_SETTINGS@@

@@DECOMPRESS@@
# Encryption at rest (SEALED=1: on at init time): the archive's files are opened by 'pgbackup wal-fetch',
# which checks each one's authenticity; this script never decrypts. Where the key comes from, never the key.
@@ENCRYPTION_SETTINGS@@

# 'pgbackup restore' decompresses the segments replay will need into PGDATA/pg_wal/pgbackup_prefetch
# beforehand, several at a time; recovery_end_command calls this with --end-of-recovery to drop
# what the target did not need. PostgreSQL runs both commands in PGDATA.
PREFETCH_DIR=$PWD/pg_wal/pgbackup_prefetch
# Segments 'pgbackup wal-fetch --ahead' keeps decompressed in PREFETCH_DIR while replay runs,
# several downloads at once (PG_BACKUP_FETCH_AHEAD at init time; 0: one file per call, here).
FETCH_AHEAD=@@FETCH_AHEAD@@
# The restore marker this data directory names (written by 'pgbackup restore'): while it lives,
# cleanup keeps the backup and the WAL replay reads. Replay renews it here (a local repository:
# its modification time; a bucket: wal-fetch rewrites it); the end of recovery removes it.
RESTORE_MARKER=
{ read -r RESTORE_MARKER <"$PWD/pg_wal/pgbackup_restore"; } 2>/dev/null
case $RESTORE_MARKER in ''|*[!0-9a-f_-]*) RESTORE_MARKER= ;; esac
MARKER_FILE=$BACKUP_DIR/restores/$RESTORE_MARKER.json
# read_fetcher: sets fpid and fstart from .fetcher.pid, the fetcher's pid and start time (empty if none).
read_fetcher() {
    fpid=
    fstart=
    { read -r fpid fstart <"$PREFETCH_DIR/.fetcher.pid"; } 2>/dev/null
}
# fetcher_proven PID START: whether process PID runs and started at START (field 22 of
# /proc/PID/stat, written beside the pid): false where /proc is missing. Builtins only.
fetcher_proven() {
    case $1 in ''|*[!0-9]*) return 1 ;; esac
    [ -n "$2" ] && [ -r /proc/self/stat ] || return 1
    fstat=
    { read -r fstat <"/proc/$1/stat"; } 2>/dev/null || return 1
    want=$2
    # The command name (field 2) is in parentheses and may hold spaces: fields after it only.
    set -- ${fstat##*) }
    [ $# -ge 20 ] && [ "${20}" = "$want" ]
}
# fetcher_runs PID START: whether the fetcher that wrote .fetcher.pid still runs. Not kill -0 alone:
# a fetcher killed outright leaves its pid file, and once its pid is reused by another process no
# fetcher would be started again; its start time tells the two apart. Only where /proc (or the
# start time) is missing does the pid decide.
fetcher_runs() {
    case $1 in ''|*[!0-9]*) return 1 ;; esac
    if [ -n "$2" ] && [ -r /proc/self/stat ]; then
        fetcher_proven "$1" "$2"
        return
    fi
    kill -0 "$1" 2>/dev/null
}
if [ "${1:-}" = --end-of-recovery ]; then
    # A fetcher still prefetching would write into the directory while it is removed, and leave WAL
    # in PGDATA after promotion: stop it first. Only when its start time proves it is ours (a pid
    # alone may be another process's by now); it has at most 10 s to go.
    read_fetcher
    if fetcher_proven "$fpid" "$fstart"; then
        kill -TERM "$fpid" 2>/dev/null
        waited=0
        while fetcher_proven "$fpid" "$fstart" && [ $waited -lt 100 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
    fi
    rm -rf -- "$PREFETCH_DIR"
    if [ -n "$RESTORE_MARKER" ]; then
        if [ -f "$MARKER_FILE" ]; then
            rm -f -- "$MARKER_FILE"
        elif [ -n "$S3_BUCKET" ]; then
            export PG_BACKUP_DIR="$BACKUP_DIR" PG_BACKUP_S3_BUCKET="$S3_BUCKET" PG_BACKUP_S3_PREFIX="$S3_PREFIX" \
                PG_BACKUP_S3_REGION="$S3_REGION" PG_BACKUP_S3_ENDPOINT="$S3_ENDPOINT" PG_BACKUP_S3_PATH_STYLE="$S3_PATH_STYLE"
            # Best effort: a marker left behind expires by itself.
            @@PGBACKUP@@ wal-fetch --repo s3 --end-restore "$PWD" </dev/null >/dev/null 2>&1
        fi
        rm -f -- "$PWD/pg_wal/pgbackup_restore"
    fi
    exit 0
fi
# renew_marker: a hit from the prefetch directory renews only for every 16th segment (a process
# per hit would slow replay); a file taken from the archive always does.
renew_marker() {
    [ -n "$RESTORE_MARKER" ] && [ -f "$MARKER_FILE" ] || return 0
    touch -c -- "$MARKER_FILE" 2>/dev/null || :
}

if [ $# -ne 2 ]; then
    echo "usage: $0 %f %p   (PostgreSQL's restore_command)" >&2
    exit 126
fi
name=$1
dest=$2
case $name in
    ''|*/*|.*) echo "restore_wal.sh: '$name' is not a WAL file name" >&2; exit 126 ;;
esac

# A prefetched segment is a complete file (written under a temporary name, then renamed). Restore
# does not fsync them: they are only trusted while the machine has not restarted since (a crash of
# the OS could leave them partly unwritten), which the boot id in the marker tells; 'fsynced' in
# the marker (systems without a boot id) means they were flushed. Only shell builtins: no process.
prefetch_trusted() {
    marker=
    boot=
    { read -r marker <"$PREFETCH_DIR/.trusted"; } 2>/dev/null || return 1
    [ "$marker" = fsynced ] && return 0
    { read -r boot </proc/sys/kernel/random/boot_id; } 2>/dev/null || return 1
    [ -n "$boot" ] && [ "$marker" = "boot $boot" ]
}
# fetch_ahead REPO HIT (REPO auto, local or s3; HIT 1 when the file came from the prefetch
# directory): after a segment was restored, makes sure a fetch-ahead runs for the segments after
# it (detached: recovery never waits for it; one per directory, it takes a lock). After a hit it
# is not started again once the archive's end was seen (.fetcher.end): only a miss, WAL archived
# since, does. Builtins only while one runs or enough is prefetched, so a hit costs no process.
fetch_ahead() {
    [ "$FETCH_AHEAD" -gt 0 ] 2>/dev/null || return 0
    fetch_repo=$1
    [ "$2" = 1 ] && [ -e "$PREFETCH_DIR/.fetcher.end" ] && return 0
    case $name in *[!0-9A-F]*) return 0 ;; ????????????????????????) ;; *) return 0 ;; esac
    read_fetcher
    fetcher_runs "$fpid" "$fstart" && return 0
    set -- "$PREFETCH_DIR"/0*
    [ -e "$1" ] && [ $# -ge $((FETCH_AHEAD / 2)) ] && return 0
    mkdir -p "$PREFETCH_DIR" 2>/dev/null || return 0
    bytes=$(($(wc -c <"$dest")))
    export PG_BACKUP_DIR="$BACKUP_DIR" PG_BACKUP_S3_BUCKET="$S3_BUCKET" PG_BACKUP_S3_PREFIX="$S3_PREFIX" \
        PG_BACKUP_S3_REGION="$S3_REGION" PG_BACKUP_S3_ENDPOINT="$S3_ENDPOINT" PG_BACKUP_S3_PATH_STYLE="$S3_PATH_STYLE"
    if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi
    $detach nohup @@PGBACKUP@@ wal-fetch --repo "$fetch_repo" --ahead "$FETCH_AHEAD" --segment-size "$bytes" --into "$PREFETCH_DIR" "$name" \
        </dev/null >/dev/null 2>&1 &
}

if [ -f "$PREFETCH_DIR/$name" ] && prefetch_trusted && mv -f "$PREFETCH_DIR/$name" "$dest"; then
    case $name in *0) renew_marker ;; esac
    fetch_ahead auto 1
    exit 0
fi

# Segments, .history, .backup and .partial files are all stored as NAME plus a compression suffix.
found=
for s in @@KNOWN_SUFFIXES_WORDS@@ ''; do
    if [ -f "$ARCHIVE_DIR/$name$s" ]; then
        found=$ARCHIVE_DIR/$name$s
        break
    fi
done
if [ -z "$found" ]; then
    [ -n "$S3_BUCKET" ] || exit 1
    export PG_BACKUP_DIR="$BACKUP_DIR" PG_BACKUP_S3_BUCKET="$S3_BUCKET" PG_BACKUP_S3_PREFIX="$S3_PREFIX" \
        PG_BACKUP_S3_REGION="$S3_REGION" PG_BACKUP_S3_ENDPOINT="$S3_ENDPOINT" PG_BACKUP_S3_PATH_STYLE="$S3_PATH_STYLE"
    # wal-fetch: 0 fetched to %p (through a temporary file), 1 not in the bucket, other: cannot fetch.
    @@PGBACKUP@@ wal-fetch --repo s3 "$name" "$dest" </dev/null
    rc=$?
    case $rc in
        0) fetch_ahead s3 0; exit 0 ;;
        1) exit 1 ;;
    esac
    # The bucket cannot be read. With a local archive this is the end of it, as far as this machine
    # knows: say so and let recovery go on. Without one (recovery from the bucket alone), stop
    # recovery rather than promote without WAL that may well exist.
    for f in "$ARCHIVE_DIR"/*; do
        if [ -e "$f" ]; then
            echo "restore_wal.sh: $name: s3://$S3_BUCKET cannot be read (wal-fetch exited $rc); taking the local archive's end" >&2
            exit 1
        fi
    done
    echo "restore_wal.sh: $name: s3://$S3_BUCKET cannot be read (wal-fetch exited $rc)" >&2
    exit 126
fi

if [ "$SEALED" = 1 ]; then
    export PG_BACKUP_DIR="$BACKUP_DIR"
    # wal-fetch: 0 fetched to %p (through a temporary file), 1 not in the archive, other: cannot
    # (a file that fails authentication among them): fatal, recovery must not go on without it.
    @@PGBACKUP@@ wal-fetch --repo local "$name" "$dest" </dev/null
    rc=$?
    case $rc in
        0) renew_marker; fetch_ahead local 0; exit 0 ;;
        1) exit 1 ;;
    esac
    echo "restore_wal.sh: cannot restore $found to $dest (wal-fetch exited $rc)" >&2
    exit 126
fi

# Through a temporary file next to %p, so PostgreSQL never reads a partly written file.
tmp=$dest.pgbackup-tmp.$$
trap 'rm -f "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
if ! decompress "$found" >"$tmp"; then
    echo "restore_wal.sh: cannot restore $found to $dest" >&2
    exit 126
fi
if ! mv -f "$tmp" "$dest"; then
    echo "restore_wal.sh: cannot rename $tmp to $dest" >&2
    exit 126
fi
renew_marker
fetch_ahead local 0
exit 0
