#!/bin/sh
# archive_wal.sh: PostgreSQL's archive_command for the pgbackup repository below.
#
#   archive_command = '<this script> %p %f'
#
# Written by 'pgbackup init' (pgbackup @@VERSION@@). Do not edit: init rewrites it whenever the
# configuration changes; change the environment (PG_BACKUP_*) and re-run 'pgbackup init'.
#
# PostgreSQL runs this once per finished WAL segment (16 MiB) and takes exit 0 to mean "safely
# archived": it may then recycle the segment. So exit 0 only once the compressed copy is durable
# under its final name, and never leave a partial file under that name. Plain POSIX sh, so that a
# segment costs a few forks instead of a JVM start. It needs no database password.
#
# Exit codes: 0 archived (or an identical copy was already there), 1 not archived, 2 misuse.

set -u
umask 077
# PostgreSQL may start us with a bare PATH; make sure the usual places are searched too.
PATH="${PATH:+$PATH:}/usr/local/bin:/usr/bin:/bin"
# The configuration file init read (--config / PG_BACKUP_CONFIG; empty: none), for the pgbackup started here.
PG_BACKUP_CONFIG=@@CONFIG_FILE@@; export PG_BACKUP_CONFIG

BACKUP_DIR=@@BACKUP_DIR@@
COMPRESSION=@@COMPRESSION@@
SUFFIX=@@SUFFIX@@
# Remote sync; REMOTE_HOST is empty when PG_BACKUP_REMOTE_HOST was not set at init time.
REMOTE_HOST=@@REMOTE_HOST@@
REMOTE_USER=@@REMOTE_USER@@
REMOTE_DIR=@@REMOTE_DIR@@
REMOTE_PORT=@@REMOTE_PORT@@
# SSH program and options (PG_BACKUP_SSH_COMMAND, default ssh), as rsync -e reads them.
REMOTE_SSH=@@REMOTE_SSH@@
# Upper bound for one background rsync, so a hanging remote cannot pile up processes forever.
REMOTE_TIMEOUT=300

# The S3 bucket (PG_BACKUP_S3_* at init time; S3_BUCKET empty: none). Never credentials: the
# pgbackup started below finds them through the AWS SDK's chain (PostgreSQL's environment,
# ~/.aws of its user, an instance role).
@@S3_SETTINGS@@
# Upper bound for one background 'pgbackup sync --wal-only --to s3'.
S3_TIMEOUT=600

# Encryption at rest (PG_BACKUP_ENCRYPTION_* at init time; SEALED=1: on). Only the archiver seals:
# this script never stores a segment itself while it is on. Where the key comes from, never the key.
@@ENCRYPTION_SETTINGS@@

# async: hand the segment to the archiver ('pgbackup archiver', one per repository, started here
# when none runs) and wait for its acknowledgement; sync: store it here (PG_BACKUP_ARCHIVER).
ARCHIVER=@@ARCHIVER@@
# Seconds to wait for the archiver's acknowledgement before failing this call (PostgreSQL retries).
ACK_TIMEOUT=@@ACK_TIMEOUT@@
# The archiver's settings, exported to the archiver started below.
@@ARCHIVER_SETTINGS@@
# This cluster's spool: PGDATA's path components joined by '_' (builtins only; PostgreSQL runs us
# in PGDATA). Rendered from ArchiveSpool, which names the same directory.
@@SPOOL_DIR@@

ARCHIVE_DIR=$BACKUP_DIR/wal_archive
LOG_FILE=$BACKUP_DIR/logs/wal_archive.log
# One background S3 sync at a time (flock); a segment archived while it runs leaves the pending
# mark, which makes the running one go round again instead of starting a JVM per segment.
S3_LOCK=$BACKUP_DIR/logs/.s3-sync.lock
S3_PENDING=$BACKUP_DIR/logs/.s3-sync.pending

# A failure reaches PG_BACKUP_NOTIFY_COMMAND (and the metrics file) at once, not at the next pgbackup
# command: the first failure after a success, and the first success after failures, start
# 'pgbackup archive-event' detached. This mark makes that once per change, not once per retry of
# PostgreSQL; while all is well a call costs one test for it, no process.
ARCHIVE_FAILING=$BACKUP_DIR/logs/.archive-failing

name=-
size=-

# log LEVEL RESULT [DETAIL]: one line per call in logs/wal_archive.log, in the archiver's format
# (ArchiveLogFormat, rendered here). Errors and warnings also go to stderr, which PostgreSQL copies
# into its server log. A log that cannot be written never changes the outcome of archiving.
log() {
    line=@@LOG_LINE@@
    { printf '%s\n' "$line"; } 2>/dev/null >>"$LOG_FILE"
    case $1 in
        @@LOUD_LEVELS@@) printf 'archive_wal.sh: %s\n' "$line" >&2 ;;
    esac
    case $1:$2 in
        ERROR:rejected) ;;
        ERROR:*) [ -e "$ARCHIVE_FAILING" ] || archive_event --failed "$name could not be archived: ${3:-$2}" ;;
        INFO:@@RESULT_NEW@@|INFO:@@RESULT_IDENTICAL@@) if [ -e "$ARCHIVE_FAILING" ]; then archive_event --recovered "$name"; fi ;;
    esac
}

# archive_event --failed MESSAGE | --recovered SEGMENT: sets or clears the mark, then starts
# 'pgbackup archive-event' detached (PostgreSQL's archiver never waits for a JVM). Only when the mark
# did change: one that cannot be set tells nothing rather than something on every retry. An empty
# file and output to /dev/null, so that a full disk is told too.
archive_event() {
    case $1 in
        --failed) { : >"$ARCHIVE_FAILING"; } 2>/dev/null || return 0 ;;
        *) rm -f "$ARCHIVE_FAILING" 2>/dev/null; [ ! -e "$ARCHIVE_FAILING" ] || return 0 ;;
    esac
    if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi
    PG_BACKUP_DIR="$BACKUP_DIR" $detach nohup @@PGBACKUP@@ archive-event "$@" </dev/null >/dev/null 2>&1 &
}

# Checked before anything is written, so a missing compressor fails cleanly with a clear line.
require_compressor() {
    case $COMPRESSION in
        gzip) command -v pigz >/dev/null 2>&1 || command -v gzip >/dev/null 2>&1 ;;
        zstd) command -v zstd >/dev/null 2>&1 ;;
        lz4) command -v lz4 >/dev/null 2>&1 ;;
        none) true ;;
        *) false ;;
    esac
}

# compress: stdin to stdout. Level 1 throughout: on one real 16 MiB segment pigz -1 took ~100 ms,
# gzip -1 ~210 ms and the default gzip -6 ~580 ms, for a ~12% larger file than -6.
compress() {
    case $COMPRESSION in
        gzip)
            if command -v pigz >/dev/null 2>&1; then pigz -1 -c; else gzip -1 -c; fi ;;
        zstd) zstd -q -1 -c ;;
        lz4) lz4 -q -1 -c ;;
        none) cat ;;
        *) return 1 ;;
    esac
}

@@DECOMPRESS@@

# same_content ARCHIVED SOURCE: true only if ARCHIVED decompresses cleanly to exactly SOURCE.
# Both exit codes count (a POSIX pipeline reports only the last one), so a damaged copy whose
# readable part matches is still a conflict, not a success.
same_content() {
    codes=$({ { decompress "$1"; echo "d$?" >&3; } | cmp -s - "$2"; echo "c$?" >&3; } 3>&1)
    case $codes in
        *d0*c0*|*c0*d0*) return 0 ;;
        *) return 1 ;;
    esac
}

# remote_sync FILE: copies one archived file to the remote's wal_archive/. Runs detached from
# PostgreSQL's archiver, bounded by a timeout; a failure is a WARNING, never an archive failure:
# 'pgbackup sync' copies whatever it missed.
remote_sync() {
    file=$1
    target="$REMOTE_USER@$REMOTE_HOST:$REMOTE_DIR/wal_archive/"
    set -- rsync -a --timeout=60 -e "$REMOTE_SSH -p $REMOTE_PORT -o BatchMode=yes -o ConnectTimeout=10" "$file" "$target"
    if command -v timeout >/dev/null 2>&1; then
        set -- timeout "$REMOTE_TIMEOUT" "$@"
    fi
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ]; then
        # One log line: ssh ends its messages with CR LF.
        out=$(printf '%s' "$out" | tr '\r\n' '  ' | tr -s ' ' | cut -c1-300)
        log WARNING remote-sync-failed "rsync to $target exited $rc: $out"
    fi
}

# s3_sync: runs 'pgbackup sync --wal-only --to s3' while the pending mark is set, holding the lock;
# started detached after each archived file. A failure is a WARNING in the log, never an archive
# failure: the next archived file, or 'pgbackup sync', copies what was missed.
s3_sync() {
    export PG_BACKUP_DIR="$BACKUP_DIR" PG_BACKUP_S3_BUCKET="$S3_BUCKET" PG_BACKUP_S3_PREFIX="$S3_PREFIX" \
        PG_BACKUP_S3_REGION="$S3_REGION" PG_BACKUP_S3_ENDPOINT="$S3_ENDPOINT" PG_BACKUP_S3_PATH_STYLE="$S3_PATH_STYLE"
    if command -v flock >/dev/null 2>&1; then have_flock=1; exec 9>>"$S3_LOCK" || return 0; else have_flock=; fi
    while :; do
        if [ -n "$have_flock" ]; then flock -n 9 || return 0; fi
        rounds=0
        while [ -e "$S3_PENDING" ] && [ "$rounds" -lt 50 ]; do
            rounds=$((rounds + 1))
            rm -f "$S3_PENDING"
            set -- @@PGBACKUP@@ sync --wal-only --to s3
            if command -v timeout >/dev/null 2>&1; then
                set -- timeout "$S3_TIMEOUT" "$@"
            fi
            out=$("$@" 2>&1 </dev/null)
            rc=$?
            out=$(printf '%s' "$out" | tr '\r\n' '  ' | tr -s ' ' | cut -c1-300)
            if [ "$rc" -ne 0 ]; then
                log WARNING s3-sync-failed "pgbackup sync --wal-only to s3://$S3_BUCKET exited $rc: $out"
            else
                log INFO s3-synced "$out"
            fi
        done
        [ -n "$have_flock" ] || return 0
        flock -u 9
        # A file archived between the last round and the unlock found the lock taken: go round for it.
        [ -e "$S3_PENDING" ] || return 0
    done
}

if [ "${1:-}" = --s3-sync ] && [ $# -eq 1 ]; then
    s3_sync
    exit 0
fi

if [ "${1:-}" = --remote-sync ] && [ $# -eq 3 ]; then
    name=$3
    size=$(wc -c <"$2" 2>/dev/null | tr -d ' ')
    remote_sync "$2"
    exit 0
fi

if [ $# -ne 2 ]; then
    echo "usage: $0 %p %f   (PostgreSQL's archive_command)" >&2
    exit 2
fi
src=$1
name=$2
case $name in
    ''|*/*|.*) name=-; log ERROR rejected "'$2' is not a WAL file name"; exit 2 ;;
esac

# archiver_pid: sets pid to the running archiver's pid (0 when it runs but its pid file is gone, as
# it is while an idle archiver exits; empty: none runs) and archiver_pgdata to the cluster it
# archives. Whether it runs is decided by its lock (ArchiverLiveness, which 'pgbackup status' uses
# too), never by kill -0: the pid of an archiver killed outright (OOM killer) may now be a
# PostgreSQL backend's, and then no archiver would ever be started again. The archiver holds a
# flock(2) lock on archiver.flock for its lifetime; this shared try-lock is free (0) or held (3).
# Only when flock cannot tell (not installed, unreadable file) does the pid decide.
archiver_pid() {
    pid=
    archiver_pgdata=
    # 2>/dev/null first: redirections apply left to right, and a missing pid file is no error.
    { read -r pid && read -r archiver_pgdata; } 2>/dev/null <"$SPOOL_DIR/archiver.pid" || { pid=; archiver_pgdata=; }
    case $pid in ''|*[!0-9]*) pid= ;; esac
    if command -v flock >/dev/null 2>&1; then
        # Every archiver creates the file before it writes its pid file: none means none runs.
        [ -e "$SPOOL_DIR/archiver.flock" ] || { pid=; return 0; }
        flock -n -s -E 3 "$SPOOL_DIR/archiver.flock" true 2>/dev/null
        case $? in
            0) pid=; return 0 ;;
            3) pid=${pid:-0}; return 0 ;;
        esac
    fi
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || pid=
}

# start_archiver: a detached archiver for this cluster (PostgreSQL runs us in PGDATA); it takes a
# lock, so a second one started by a race exits at once. Its output goes to the spool's log.
start_archiver() {
    export PG_BACKUP_DIR="$BACKUP_DIR" PG_BACKUP_COMPRESS="$COMPRESSION" \
        PG_BACKUP_S3_BUCKET="$S3_BUCKET" PG_BACKUP_S3_PREFIX="$S3_PREFIX" PG_BACKUP_S3_REGION="$S3_REGION" \
        PG_BACKUP_S3_ENDPOINT="$S3_ENDPOINT" PG_BACKUP_S3_PATH_STYLE="$S3_PATH_STYLE" \
        PG_BACKUP_ARCHIVER=async PG_BACKUP_ARCHIVER_WORKERS="$ARCHIVER_WORKERS" PG_BACKUP_ARCHIVER_REPO="$ARCHIVER_REPO" \
        PG_BACKUP_ARCHIVER_IDLE_EXIT="$ARCHIVER_IDLE_EXIT" PG_BACKUP_REMOTE_HOST="$REMOTE_HOST" \
        PG_BACKUP_REMOTE_USER="$REMOTE_USER" PG_BACKUP_REMOTE_DIR="$REMOTE_DIR" PG_BACKUP_REMOTE_PORT="$REMOTE_PORT" \
        PG_BACKUP_SSH_COMMAND="$REMOTE_SSH"
    mkdir -p "$SPOOL_DIR/ack" 2>/dev/null
    if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi
    $detach nohup @@PGBACKUP@@ archiver --pgdata "$PWD" --spool "$SPOOL_DIR" </dev/null >>"$SPOOL_DIR/archiver.out" 2>&1 &
}

# archive_async: waits for the archiver's acknowledgement of $name: NAME.ok (durably archived:
# exit 0) or NAME.error (its one line goes to PostgreSQL's log: exit 1). The archiver looks ahead,
# so for a backlog the acknowledgement is usually there before PostgreSQL asks.
archive_async() {
    ok=$SPOOL_DIR/ack/$name.ok
    err=$SPOOL_DIR/ack/$name.error
    ticks=0
    started_at=-1000
    limit=$((ACK_TIMEOUT * 20))
    while :; do
        if [ -e "$ok" ]; then
            # Only our cluster's (its PGDATA is the line in it): another cluster's segment of the same
            # name, acknowledged by its archiver, is not ours and stays for it.
            acked_for=
            { read -r acked_for <"$ok"; } 2>/dev/null
            if [ "$acked_for" = "$PWD" ]; then
                rm -f "$ok"
                if [ -e "$ARCHIVE_FAILING" ]; then archive_event --recovered "$name"; fi
                exit 0
            fi
        fi
        if [ -e "$err" ]; then
            msg=
            { read -r msg <"$err"; } 2>/dev/null
            rm -f "$err"
            size=$(($(wc -c <"$src" 2>/dev/null || echo 0)))
            log ERROR failed "${msg:-the archiver reported an error without a message}"
            exit 1
        fi
        # Once a second: is an archiver running, and for this cluster? Start one when none is (not
        # again within 10 s of our own start: a JVM needs a moment to write its pid file).
        if [ $((ticks % 20)) -eq 0 ]; then
            archiver_pid
            if [ -n "$pid" ] && [ -n "$archiver_pgdata" ] && [ "$archiver_pgdata" != "$PWD" ]; then
                log ERROR refused "the archiver of another cluster ($archiver_pgdata) holds $BACKUP_DIR; give each cluster its own PG_BACKUP_DIR"
                exit 1
            fi
            if [ -z "$pid" ] && [ $((ticks - started_at)) -ge 200 ]; then
                start_archiver
                started_at=$ticks
            fi
        fi
        if [ "$ticks" -ge "$limit" ]; then
            log ERROR failed "no acknowledgement from the archiver within ${ACK_TIMEOUT}s (see $SPOOL_DIR/archiver.out and 'pgbackup status'); PostgreSQL will retry"
            exit 1
        fi
        ticks=$((ticks + 1))
        sleep 0.05 2>/dev/null || sleep 1
    done
}

# Only PostgreSQL's own call is handed to the archiver: run in PGDATA, %p is pg_wal/%f and its
# .ready exists for as long as the call lasts; the archiver (which reads PGDATA/pg_wal/*.ready)
# acknowledges nothing else. Any other call (by hand, from another directory, for a file elsewhere
# or one PostgreSQL already archived) stores and compares the file here as the sync mode does,
# instead of waiting ACK_TIMEOUT for an acknowledgement that never comes.
if [ "$ARCHIVER" = async ] && [ "$src" = "pg_wal/$name" ] && [ -e "pg_wal/archive_status/$name.ready" ]; then
    archive_async
fi

if [ "$SEALED" = 1 ]; then
    log ERROR refused "encryption is on and only the archiver seals segments: set PG_BACKUP_ARCHIVER=async and re-run 'pgbackup init' (this script never stores plaintext)"
    exit 1
fi
# A repository that began sealing (pgbackup keeps the sealed list of its plain objects from before)
# takes no plain segment from a script rendered without the key: with the key it would be refused.
if [ -e "$ARCHIVE_DIR/inventory/plain_inventory.json" ]; then
    log ERROR refused "the repository's objects are sealed but this script was rendered without the encryption key: set PG_BACKUP_ENCRYPTION_KEY_FILE (or _KEY_COMMAND, _PUBLIC_KEY_FILE) and PG_BACKUP_ARCHIVER=async, then re-run 'pgbackup init'"
    exit 1
fi

if [ ! -f "$src" ] || [ ! -r "$src" ]; then
    log ERROR failed "source $src is missing or unreadable"
    exit 1
fi
# Arithmetic trims the padding some wc print; it saves a tr process (every fork costs ms here).
size=$(($(wc -c <"$src")))

# Already archived (PostgreSQL retries a file whose earlier attempt it could not confirm, e.g.
# after a crash): identical content is success, different content must never be overwritten.
# Every suffix a file may have been archived with, in SegmentStore's lookup order: a retry after
# the compression was changed must find the earlier copy rather than archive the same WAL file twice.
for s in @@LOOKUP_SUFFIXES@@; do
    existing=$ARCHIVE_DIR/$name$s
    [ -e "$existing" ] || continue
    if same_content "$existing" "$src"; then
        # The earlier attempt may have died between rename and directory fsync.
        sync "$existing" "$ARCHIVE_DIR" 2>/dev/null
        log INFO @@RESULT_IDENTICAL@@ "identical $name$s kept"
        exit @@EXIT_IDENTICAL@@
    fi
    log ERROR @@RESULT_CONFLICT@@ "$name$s already exists with different content; left untouched"
    exit @@EXIT_CONFLICT@@
done

if ! require_compressor; then
    log ERROR failed "compressor for '$COMPRESSION' is not installed"
    exit 1
fi

final=$ARCHIVE_DIR/$name$SUFFIX
# Hidden temporary name in the same directory, so the rename below is atomic. A temporary file
# left by an attempt that was killed outright is removed here, once idle for 10 minutes: a
# primary and its standby (archive_mode = always) may be writing the same segment right now.
find "$ARCHIVE_DIR" -maxdepth 1 -name ".$name$SUFFIX.tmp.*" -mmin +10 -exec rm -f {} + 2>/dev/null
tmp=$ARCHIVE_DIR/.$name$SUFFIX.tmp.$$
trap 'rm -f "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if ! compress <"$src" >"$tmp"; then
    log ERROR failed "$COMPRESSION could not write $tmp (disk full, unwritable directory or compressor error)"
    exit 1
fi
stored=$(($(wc -c <"$tmp")))
# coreutils sync FILE fsyncs that file; sync DIR fsyncs the directory entry made by the rename.
if ! sync "$tmp"; then
    log ERROR failed "fsync of $tmp failed"
    exit 1
fi
# A hard link never replaces a file: when another archiver (primary and standby) stored this
# segment meanwhile, its copy is compared as above. Filesystems without hard links get a rename.
if ln "$tmp" "$final" 2>/dev/null; then
    rm -f "$tmp"
elif [ -e "$final" ]; then
    if same_content "$final" "$src"; then
        log INFO @@RESULT_IDENTICAL@@ "identical $name$SUFFIX stored meanwhile by another archiver, kept"
        exit @@EXIT_IDENTICAL@@
    fi
    log ERROR @@RESULT_CONFLICT@@ "$name$SUFFIX was stored meanwhile with different content; left untouched"
    exit @@EXIT_CONFLICT@@
elif ! mv -f "$tmp" "$final"; then
    log ERROR failed "rename of $tmp to $final failed"
    exit 1
fi
if ! sync "$ARCHIVE_DIR"; then
    log ERROR failed "fsync of $ARCHIVE_DIR failed"
    exit 1
fi
log INFO @@RESULT_NEW@@ "stored=$stored compression=$COMPRESSION"

if [ -n "$REMOTE_HOST" ]; then
    # Detached (own session where setsid exists, immune to hangups, no inherited streams) so that
    # neither PostgreSQL's archiver nor its shutdown waits for, or kills, the copy.
    if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi
    $detach nohup "$0" --remote-sync "$final" "$name" </dev/null >/dev/null 2>&1 &
fi
if [ -n "$S3_BUCKET" ]; then
    { : >"$S3_PENDING"; } 2>/dev/null
    if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi
    $detach nohup "$0" --s3-sync </dev/null >/dev/null 2>&1 &
fi
exit @@EXIT_NEW@@
