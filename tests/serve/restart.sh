#!/usr/bin/env bash
# nst serve killed with SIGKILL while a job runs: started again on the same
# data directory, the job resumes from its last checkpoint (not from the
# start) and finishes, and results finished before the kill are still there.
# usage: restart.sh NST_BINARY SHARED_DIR
nst=$1 shared=$2
. "$(dirname "$0")/lib.sh"

start_server "$tmp/data" --checkpoint-every 5
early=$(submit -F content=@"$content" -F net=wave -F size=64)
wait_job "$early" done 120 && ok || bad "job $early did not finish: $(cat "$tmp/body")"
id=$(submit -F content=@"$content" -F style=@"$style" -F size=64 -F iterations=200)
# kill it once a checkpoint (every 5 iterations) has been written
for _ in $(seq 1 3000); do
    [ -e "$tmp/data/jobs/$id/checkpoint.safetensors" ] && break
    sleep 0.1
done
curl -s -o "$tmp/body" "$url/api/jobs/$id"
before=$(json iteration)
[ "$(json state)" = running ] && [ "${before:-0}" -ge 5 ] && ok || bad "job not running past a checkpoint: $(cat "$tmp/body")"
stop_server KILL

start_server "$tmp/data" --checkpoint-every 5
req 200 '"state":"done"' "a result from before the kill" -- "$url/api/jobs/$early"
get_png "$url/api/jobs/$early/result" "$tmp/early.png" 64x48 "its image"
# the first progress after the restart comes after the checkpoint
first=""
for _ in $(seq 1 3000); do
    curl -s -o "$tmp/body" "$url/api/jobs/$id"
    first=$(json iteration)
    [ "$(json state)" = running ] && [ -n "$first" ] && [ "$first" != "$before" ] && break
    sleep 0.05
done
grep -q "job $id resumes from its checkpoint" "$log" && ok || bad "no resume: $(cat "$log")"
[ "${first:-0}" -gt 5 ] && ok || bad "after the restart the job was at iteration $first: it started over"
wait_job "$id" done 600 && ok || bad "job $id did not finish after the restart: $(cat "$tmp/body")"
[ "$(json iteration)" = 200 ] && ok || bad "finished at iteration $(json iteration)"
get_png "$url/api/jobs/$id/result" "$tmp/result.png" 64x48 "the resumed job's result"
echo "killed at iteration $before, resumed at $first"
finish
