#!/usr/bin/env bash
# Crash consistency, the SQLite way: nst serve killed with SIGKILL at random
# moments (KILLS times, default 50) while optimisation, pretrained-style,
# arbitrary-style and video jobs run, and started again on the same data
# directory each time. After every kill the database passes PRAGMA
# integrity_check; at the end every job the server accepted (201) ends
# exactly once, done with a whole result (a PNG that decodes, an MP4 that
# ffprobe reads) or failed with a recorded error, and no file under the
# jobs' names is truncated.
# usage: killloop.sh NST_BINARY SHARED_DIR [KILLS]
nst=$1 shared=$2 kills=${3:-50}
. "$(dirname "$0")/lib.sh"
painting=$shared/images/style/starry_night.jpg
ffmpeg -v error -f lavfi -i testsrc2=size=96x72:rate=8 -t 1 -c:v libx264 -pix_fmt yuv420p "$tmp/clip.mp4"
accepted=()
RANDOM=7
for i in $(seq 1 "$kills"); do
    start_server "$tmp/data" --checkpoint-every 3
    case $((i % 4)) in
        0) id=$(submit -F content=@"$content" -F style=@"$style" -F size=48 -F iterations=40) ;;
        1) id=$(submit -F content=@"$content" -F net=wave -F size=64) ;;
        2) id=$(submit -F content=@"$content" -F style=@"$painting" -F fast=1 -F size=64) ;;
        3) id=$(submit -F video=@"$tmp/clip.mp4" -F net=wave) ;;
    esac
    [ -n "$id" ] && accepted+=("$id")
    sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
    stop_server KILL
    check=$(/usr/bin/python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$tmp/data/nst.db" 2>&1)
    [ "$check" = ok ] || bad "after kill $i: integrity_check says $check"
done
[ "${#accepted[@]}" -ge $((kills * 9 / 10)) ] && ok || bad "only ${#accepted[@]} of $kills jobs accepted"
# a last start: every accepted job ends
start_server "$tmp/data"
for id in "${accepted[@]}"; do
    wait_job "$id" any-end 300 || { bad "job $id did not end: $(cat "$tmp/body")"; continue; }
    state=$(json state)
    case $state in
        done)
            kind=$(json kind)
            curl -s -o "$tmp/result" --max-time 60 "$url/api/jobs/$id/result"
            if [ "$kind" = video ]; then
                ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$tmp/result" >/dev/null 2>&1 &&
                    ok || bad "job $id: the clip does not read"
            else
                /usr/bin/python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).load()" "$tmp/result" 2>/dev/null &&
                    ok || bad "job $id: the picture does not decode"
            fi ;;
        failed) [ -n "$(json error)" ] && ok || bad "job $id failed without an error" ;;
        *) bad "job $id ended $state" ;;
    esac
done
# exactly once: one row per accepted job, none left running or queued
rows=$(/usr/bin/python3 -c "import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute(\"SELECT count(*), sum(state IN ('queued','running','new')) FROM jobs\").fetchone())" "$tmp/data/nst.db")
[ "$rows" = "(${#accepted[@]}, 0)" ] && ok || bad "jobs in the database: $rows, accepted ${#accepted[@]}"
# no partial files under the jobs' names
for f in "$tmp"/data/jobs/*/*; do
    case $f in *.part*) bad "a temporary file left: $f" ;; esac
done
finish
