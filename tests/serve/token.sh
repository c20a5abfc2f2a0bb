#!/usr/bin/env bash
# nst serve --token: every /api/ request without the token (a header or the
# page's cookie) is a 401, before any of its body is read; with it, the API
# answers; the page itself is open (it asks for the token); NST_TOKEN works
# as the file does; a short token or a missing file is a usage error.
# usage: token.sh NST_BINARY SHARED_DIR
nst=$1 shared=$2
. "$(dirname "$0")/lib.sh"

secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$secret" > "$tmp/token"
start_server "$tmp/data" --token "$tmp/token"
req 200 "" "the page without a token" -- "$url/"
req 401 '"error":"this server asks for its access token' "the API without a token" -- "$url/api/jobs"
req 401 "" "a wrong token" -- -H "Authorization: Bearer ${secret}x" "$url/api/jobs"
req 401 "" "the token's prefix" -- -H "Authorization: Bearer ${secret:0:16}" "$url/api/jobs"
req 200 '^\[' "the token as a header" -- -H "Authorization: Bearer $secret" "$url/api/jobs"
req 200 '"max_pixels"' "the token as the page's cookie" -- -b "nst_token=$secret" "$url/api/limits"
# a big upload without the token: refused at once, the body never read
head -c 20000000 /dev/zero > "$tmp/big.bin"
t0=$(date +%s%N)
req 401 "" "an upload without a token" -- -F content=@"$tmp/big.bin" "$url/api/jobs"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
id=$(submit -H "Authorization: Bearer $secret" -F content=@"$content" -F net=wave -F size=64)
[ -n "$id" ] && ok || bad "a job with the token was not accepted"
auth=(-H "Authorization: Bearer $secret")
wait_job "$id" done 120 && ok || bad "job $id: $(cat "$tmp/body")"
req 401 "" "a result without the token" -- "$url/api/jobs/$id/result"
auth=(-b "nst_token=$secret") # as the page's <img> asks for it
get_png "$url/api/jobs/$id/result" "$tmp/r.png" 64x48 "a result with the cookie"
stop_server
echo "  an upload of 20 MB without the token: refused in $ms ms"

NST_TOKEN=$secret start_server "$tmp/data2"
req 401 "" "NST_TOKEN: without" -- "$url/api/jobs"
req 200 "" "NST_TOKEN: with" -- -H "Authorization: Bearer $secret" "$url/api/jobs"
stop_server
echo short > "$tmp/short"
"$nst" serve --port 0 --data "$tmp/d3" --token "$tmp/short" 2>"$tmp/err"; st=$?
[ $st = 2 ] && grep -q "short: a token of 5 characters; 16 or more are needed" "$tmp/err" && ok || bad "a short token: exit $st, $(cat "$tmp/err")"
"$nst" serve --port 0 --data "$tmp/d3" --token "$tmp/none" 2>"$tmp/err"; st=$?
[ $st = 2 ] && grep -q "none: No such file" "$tmp/err" && ok || bad "a missing token file: exit $st, $(cat "$tmp/err")"
finish
