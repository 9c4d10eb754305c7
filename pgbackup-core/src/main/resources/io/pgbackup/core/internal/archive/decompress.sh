# decompress FILE: FILE's original bytes on stdout, the method chosen by FILE's suffix, so that
# files archived under an earlier PG_BACKUP_COMPRESS stay readable.
decompress() {
    case $1 in
        *@@SUFFIX_GZIP@@) gzip -dc <"$1" ;;
        *@@SUFFIX_ZSTD@@)
            command -v zstd >/dev/null 2>&1 || { echo "zstd is not installed: cannot read $1" >&2; return 127; }
            zstd -q -d -c <"$1" ;;
        *@@SUFFIX_LZ4@@)
            command -v lz4 >/dev/null 2>&1 || { echo "lz4 is not installed: cannot read $1" >&2; return 127; }
            lz4 -q -d -c <"$1" ;;
        *) cat <"$1" ;;
    esac
}
