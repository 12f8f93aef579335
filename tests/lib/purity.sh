#!/bin/sh
# purity.sh NM LIBRARY: the pure rooms of libdfukit (dfukit_core) call no
# function that opens, reads or seeks a file, reads the clock, sleeps, or
# touches a terminal, socket, process, libpcap, libzip or libserialport.
# Formatting output onto a stream the caller hands in (fprintf, fputs,
# fwrite, putc, fflush) is allowed: that is how the printers write.
# Exit 0 clean, 1 with one line per offending object and symbol.
NM=$1
LIB=$2
[ -f "$LIB" ] || { echo "purity: $LIB: no such library" >&2; exit 2; }
forbidden='^(fopen|fopen64|fdopen|freopen|fclose|fread|fgets|fgetc|getc|getline|getdelim|fseek|fseeko|ftell|rewind|tmpfile|open|open64|openat|creat|close|read|write|pread|pwrite|readv|writev|lseek|stat|fstat|lstat|access|unlink|rename|mkdir|opendir|readdir|mmap|munmap|msync|ftruncate|fsync|poll|ppoll|select|pselect|epoll_.*|ioctl|tc[gs]etattr|cfset[io]?speed|cfmakeraw|posix_openpt|grantpt|unlockpt|ptsname|socket|bind|connect|accept|accept4|listen|clock_gettime|gettimeofday|time|nanosleep|usleep|sleep|fork|vfork|execv.*|execl.*|posix_spawn.*|waitpid|kill|signal|sigaction|system|popen|getenv|inotify_.*|pcap_.*|zip_.*|sp_.*|BIO_new_file|PEM_read_.*|PEM_write_.*)$'
# LTO objects need the plugin: try the compiler's nm wrapper names too.
out=$("$NM" -A -u "$LIB" 2>/dev/null) || { echo "purity: $NM cannot read $LIB" >&2; exit 2; }
bad=$(printf '%s\n' "$out" | awk '{print $1, $NF}' | sed 's/@.*//' |
      awk -v re="$forbidden" '{ if ($2 ~ re) print }')
if [ -n "$bad" ]; then
  printf 'purity: the pure core calls I/O functions:\n%s\n' "$bad"
  exit 1
fi
n=$(printf '%s\n' "$out" | grep -c ' U ')
[ "$n" -gt 0 ] || { echo "purity: no undefined symbols listed: cannot judge $LIB" >&2; exit 2; }
echo "purity: $LIB: clean ($n imported symbols checked)"
