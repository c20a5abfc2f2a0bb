#!/usr/bin/env bash
# A disk that takes no more: nst serve under a file size limit (ulimit -f,
# as a full disk or quota fails a write) refuses the request whose photo
# does not fit with a 500 saying so, leaves no partial file, and goes on
# serving: a small job after it succeeds.
# usage: diskfull.sh NST_BINARY SHARED_DIR
nst=$1 shared=$2
. "$(dirname "$0")/lib.sh"
# 600 KB per file: the database and small results fit, a 1024 px PNG does not
(ulimit -f 600; exec "$nst" serve --port 0 --data "$tmp/data" --model "$model") >"$tmp/server.log" 2>&1 &
server_pid=$! log=$tmp/server.log
for _ in $(seq 1 600); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" 2>/dev/null)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "the server did not start:"; cat "$log"; exit 1; }
# a 1024 px job: its photo, stored as PNG, does not fit
req 500 '"error":"[^"]*: cannot write \(File too large\)"' "an upload too large for the disk" -- \
    -F content=@"$content" -F net=wave -F size=1024 "$url/api/jobs"
leftovers=$(find "$tmp/data/jobs" -name '*part*' 2>/dev/null)
[ -z "$leftovers" ] && ok || bad "partial files were left: $leftovers"
small=$(submit -F content=@"$content" -F net=wave -F size=128)
wait_job "$small" done 120 && ok || bad "a small job after the full disk: $(cat "$tmp/body")"
req 200 '"state":"done"' "the server still answers" -- "$url/api/jobs/$small"
finish
