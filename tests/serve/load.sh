#!/usr/bin/env bash
# nst serve under load on loopback: 50 concurrent clients poll, download a
# result, submit small jobs and send bad requests for a bounded time. Every
# request is answered (200, 201, 429 when the queue is full, the 400 a bad
# request deserves), the server's memory stays bounded, and every queued job
# finishes; prints the throughput and the status polls' p50 and p99 latency.
# usage: load.sh NST_BINARY SHARED_DIR [SECONDS]
nst=$1 shared=$2 seconds=${3:-20}
. "$(dirname "$0")/lib.sh"
clients=50
max_rss_mb=${NST_LOAD_MAX_RSS_MB:-1000}

start_server "$tmp/data" --max-queue 60
seed=$(submit -F content=@"$content" -F net=udnie -F size=32)
wait_job "$seed" done 120 && ok || bad "first job did not finish"

# client N, from its own loopback address 127.0.0.(10+N), so that the
# per-address limits (--rate, --max-client-jobs) apply as to 50 people: poll
# the list and a job, and submit a small job every 8th round. A 429 for the
# rate carries Retry-After: recorded as 429 and its seconds, e.g. "4291".
client() {
    local n=$1 end=$(( $(date +%s) + seconds )) round=0 code
    local c=(curl -s --interface 127.0.0.$((n + 10)) -w '%{http_code}%header{retry-after}' --max-time 60)
    while [ "$(date +%s)" -lt "$end" ]; do
        round=$((round+1))
        if [ $((round % 8)) = 1 ]; then
            if [ $((n % 2)) = 0 ]; then
                code=$("${c[@]}" -o "$tmp/post.$n" -F content=@"$content" \
                       -F style=@"$style" -F size=32 -F iterations=4 "$url/api/jobs")
            else
                code=$("${c[@]}" -o "$tmp/post.$n" -F content=@"$content" \
                       -F net=udnie -F size=32 "$url/api/jobs")
            fi
            [ "$code" = 201 ] && grep -oE '[0-9]+' "$tmp/post.$n" >> "$tmp/ids.$n"
        elif [ $((round % 8)) = 3 ]; then # a bad request: its 4xx is the answer wanted
            code=$("${c[@]}" -o /dev/null -F content=@"$content" -F bogus=1 \
                   "$url/api/jobs")
            [ "$code" = 400 ] && code=bad-request-refused
        elif [ $((round % 8)) = 5 ]; then
            code=$("${c[@]}" -o /dev/null "$url/api/jobs/$seed/result")
        elif [ $((round % 2)) = 0 ]; then
            code=$("${c[@]}" -o /dev/null "$url/api/jobs")
        else # a status poll, timed
            read -r code t < <("${c[@]}" -o /dev/null -w '%{http_code}%header{retry-after} %{time_total}\n' \
                              "$url/api/jobs/$seed")
            echo "$t" >> "$tmp/lat.$n"
        fi
        echo "$code" >> "$tmp/codes.$n"
        sleep 0.05
    done
}

# and one client that sends as fast as it can: it gets 429s, the others none
flood() {
    local end=$(( $(date +%s) + seconds ))
    while [ "$(date +%s)" -lt "$end" ]; do
        # 200 requests on one kept-alive connection (curl's URL globbing)
        curl -s --interface 127.0.0.9 -o /dev/null -w '%{http_code}\n' --max-time 60 "$url/api/jobs/$seed?[1-200]"
    done > "$tmp/flood"
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }
rss0=$(rss_kb)
for n in $(seq 1 $clients); do client "$n" & done
flood &
peak=$rss0
end=$(( $(date +%s) + seconds ))
while [ "$(date +%s)" -lt "$end" ]; do
    r=$(rss_kb); [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.5
done
wait $(jobs -p | grep -v "^$server_pid$") 2>/dev/null
cat "$tmp"/codes.* > "$tmp/codes"
total=$(wc -l < "$tmp/codes")
sort "$tmp/codes" | uniq -c | sed 's/^/  HTTP /'
unanswered=$(grep -cvE '^(200|201|429|bad-request-refused)$' "$tmp/codes")
# status polls' latency: median and 99th percentile
cat "$tmp"/lat.* | sort -g > "$tmp/lat"
polls=$(wc -l < "$tmp/lat")
p50=$(awk -v n="$polls" 'NR == int(n * 0.50) + 1 { printf "%.1f", $1 * 1000 }' "$tmp/lat")
p99=$(awk -v n="$polls" 'NR == int(n * 0.99) + 1 { printf "%.1f", $1 * 1000 }' "$tmp/lat")
[ "$total" -gt $((clients * 2)) ] && ok || bad "only $total requests in $seconds s"
[ "$unanswered" = 0 ] && ok || bad "$unanswered of $total requests not answered with 200/201/429"
limited=$(grep -c '^429[0-9]' "$tmp/codes")
[ "$limited" = 0 ] && ok || bad "$limited requests of the 50 clients were refused for their rate"
f200=$(grep -c '^200$' "$tmp/flood"); f429=$(grep -c '^429$' "$tmp/flood")
# 30 a second and a 2 s burst (default --rate 30); a server too slow to
# answer the flooder faster than that (a sanitised build on a busy machine)
# cannot be asked to refuse it, and says so
if [ $((f200 + f429)) -gt $((30 * seconds + 60 + 30)) ]; then
    [ "$f429" -gt 0 ] && [ "$f200" -le $((30 * seconds + 60 + 30)) ] && ok ||
        bad "the flooding client: $f200 answered, $f429 refused in $seconds s"
else
    echo "not checked: the flooding client sent only $((f200 + f429)) requests in $seconds s, under the rate limit"
fi
submitted=$(grep -c '^201$' "$tmp/codes")
[ "$submitted" -gt 0 ] && ok || bad "no job was accepted"

# every accepted job finishes
cat "$tmp"/ids.* > "$tmp/ids" 2>/dev/null
[ "$(wc -l < "$tmp/ids")" = "$submitted" ] && ok || bad "$(wc -l < "$tmp/ids") ids for $submitted jobs"
unfinished=0
while read -r id; do
    wait_job "$id" done 600 || { unfinished=$((unfinished+1)); echo "job $id: $(cat "$tmp/body")"; }
done < "$tmp/ids"
[ "$unfinished" = 0 ] && ok || bad "$unfinished of $submitted jobs did not finish"
r=$(rss_kb); [ "${r:-0}" -gt "$peak" ] && peak=$r
echo "$total requests from $clients clients in $seconds s ($((total / seconds)) per second); $submitted jobs; the flooding client: $f200 answered, $f429 refused (429); status polls: $polls, p50 $p50 ms, p99 $p99 ms; server RSS $((rss0 / 1024)) MB at start, peak $((peak / 1024)) MB"
[ $((peak / 1024)) -le "$max_rss_mb" ] && ok || bad "server RSS peaked at $((peak / 1024)) MB (limit $max_rss_mb MB)"
kill -0 "$server_pid" && ok || bad "the server died"
finish
