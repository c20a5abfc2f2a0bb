# lib.sh: helpers for the nst serve tests (sourced). Needs $nst (the binary)
# and $shared (the test data); makes $tmp and removes it, and stops the
# server, on exit.
model=$shared/models/darknet-tiny
content=$shared/images/content/tubingen.jpg   # 1024x768
style=$shared/images/style/rain_princess.jpg  # 299x300
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_files "$model/model.json" "$content" "$style"
export NST_MODELS=$shared/models  # the pretrained styles, without installing them
server_pid=""
trap 'stop_server KILL; rm -rf "$tmp"' EXIT
auth=()  # curl arguments that wait_job and get_png add (a --token server's)
# the server stopped (TERM: it must exit cleanly), then the result line
finish() {
    stop_server
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}

# start_server DATA_DIR [OPTIONS...]: run nst serve on a free loopback port;
# sets $url, $server_pid and $log (server<N>.log, N counting the starts).
starts=0
start_server() {
    local data=$1; shift
    starts=$((starts+1))
    log=$tmp/server$starts.log
    "$nst" serve --port 0 --data "$data" --model "$model" "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" 2>/dev/null)
        [ -n "$url" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server did not start:"; cat "$log"; echo "$pass passed, $((fail+1)) failed"
    exit 1
}

# stop_server [SIGNAL]: stop it (TERM by default) and wait for it; after
# TERM it must exit with status 0 (under ASan: no leak, no error).
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -"${1:-TERM}" "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    local status=$?
    server_pid=""
    if [ "${1:-TERM}" = TERM ]; then
        [ "$status" = 0 ] && ok || { bad "the server exited with status $status:"; tail -30 "$log"; }
    fi
}

# req WANT_STATUS PATTERN DESCRIPTION -- curl arguments...: the status and a
# body matching PATTERN (extended regex; "" for any). Body in $tmp/body.
req() {
    local want=$1 pattern=$2 what=$3; shift 4
    local got
    got=$(curl -s -o "$tmp/body" -w '%{http_code}' --max-time 60 "$@")
    if [ "$got" != "$want" ]; then bad "$what: HTTP $got, want $want: $(head -c 300 "$tmp/body")"; return 1; fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/body"; then
        bad "$what: body does not match '$pattern': $(head -c 300 "$tmp/body")"; return 1
    fi
    ok
}

# json FIELD: a top-level number or string field of $tmp/body (no jq needed).
json() { grep -oE "\"$1\":(\"[^\"]*\"|[-0-9.e+]+|null)" "$tmp/body" | head -1 | cut -d: -f2- | tr -d '"'; }

# submit ARGS...: POST /api/jobs, prints the new id (empty on failure).
submit() {
    curl -s --max-time 60 "$@" "$url/api/jobs" | grep -oE '"id":[0-9]+' | cut -d: -f2
}

# wait_job ID STATE SECONDS: poll until the job is in STATE; its JSON in $tmp/body.
wait_job() {
    local s
    for _ in $(seq 1 $(( $3 * 5 ))); do
        curl -s -o "$tmp/body" --max-time 10 "${auth[@]}" "$url/api/jobs/$1"
        s=$(json state)
        [ "$s" = "$2" ] && return 0
        case $s in done|failed|cancelled) [ "$2" != any-end ] || return 0; return 1;; esac
        sleep 0.2
    done
    return 1
}

# get_png URL FILE WANT_SIZE DESCRIPTION: a 200 answer holding a PNG of WANT_SIZE ("WxH").
get_png() {
    local got
    got=$(curl -s -o "$2" -w '%{http_code} %{content_type}' --max-time 60 "${auth[@]}" "$1")
    [ "$got" = "200 image/png" ] || { bad "$4: HTTP $got"; return 1; }
    [ "$(png_size "$2")" = "$3" ] && ok || bad "$4: a PNG of $(png_size "$2"), want $3"
}

# png_size FILE: "WxH" from the PNG header, empty when not a PNG.
png_size() {
    [ "$(od -An -tx1 -N8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ] || return 0
    local w h
    w=$(od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    h=$(od -An -tu1 -j20 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    echo "${w}x${h}"
}
