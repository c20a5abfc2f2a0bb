#!/usr/bin/env bash
# nst serve's JSON API over loopback: jobs of every kind (optimisation,
# pretrained net, any painting in one pass with fast=1, each of the first and
# the last with regions: a mask and a painting or none per colour) run to a result,
# progress and losses are reported, cancel works, and every bad request (too
# large, not an image, truncated, out of range, unknown id, a path in any
# field) gets a 4xx with a message while the server keeps serving.
# usage: api.sh NST_BINARY SHARED_DIR
nst=$1 shared=$2
. "$(dirname "$0")/lib.sh"

data=$tmp/data/deep/er  # parents missing: serve creates them
start_server "$data" --max-upload 1 --max-pixels 1 --checkpoint-every 5
[ -f "$data/nst.db" ] && ok || bad "the data directory's missing parents were not created"
# a second server on the same port: one message of nst's, nothing created on disk
port=${url##*:}
"$nst" serve --port "$port" --data "$tmp/other/data" --model "$model" >"$tmp/busy.out" 2>"$tmp/busy.err"
status=$?
[ "$status" = 1 ] && [ "$(wc -l <"$tmp/busy.err")" = 1 ] &&
    grep -q "cannot listen on 127.0.0.1 port $port: another program uses that port" "$tmp/busy.err" && ok ||
    bad "busy port: exit $status, stderr: $(cat "$tmp/busy.err")"
[ -e "$tmp/other" ] && bad "a server that could not listen created $tmp/other" || ok
req 200 "<title>nst studio</title>" "the page" -- "$url/"
req 200 '"name":"darknet-tiny"[^}]*"installed":true' "models: loss network" -- "$url/api/models"
req 200 '"name":"scream"[^}]*"installed":true' "models: pretrained style" -- "$url/api/models"
req 200 '^\[\]$' "empty job list" -- "$url/api/jobs"

# an optimisation: 48 px, 12 iterations
id=$(submit -F content=@"$content" -F style=@"$style" -F size=48 -F iterations=12 -F style_weight=500 -F seed=3)
[ -n "$id" ] && ok || bad "stylize job not created"
if wait_job "$id" done 300; then
    ok
    [ "$(json progress)" = 1 ] && [ "$(json iteration)" = 12 ] && [ "$(json total)" = 12 ] &&
        [ "$(json kind)" = stylize ] && ok || bad "finished job: $(cat "$tmp/body")"
    loss=$(json loss); style_loss=$(json style_loss)
    awk -v l="$loss" -v s="$style_loss" 'BEGIN { exit !(l > 0 && s > 0 && s <= l) }' && ok ||
        bad "losses: total $loss, style $style_loss"
    grep -q '"params":{"size":48,"iterations":12,"style_weight":500,"seed":3}' "$tmp/body" && ok ||
        bad "parameters not recorded: $(cat "$tmp/body")"
    grep -q "\"names\":\[\"$(basename "$content")\",\"$(basename "$style")\"\]" "$tmp/body" && ok ||
        bad "the files' names are not recorded: $(cat "$tmp/body")"
    get_png "$url/api/jobs/$id/result" "$tmp/result.png" 48x36 "result"
    get_png "$url/api/jobs/$id/preview" "$tmp/preview.png" 48x36 "preview"
    # the result differs from the photo: the style was applied
    ! cmp -s "$tmp/result.png" "$data/jobs/$id/content.png" && ok || bad "result equals the photo"
    [ ! -e "$data/jobs/$id/checkpoint.safetensors" ] && ok || bad "checkpoint left after the job"
else
    bad "stylize job $id did not finish: $(cat "$tmp/body")"
fi

# a feed-forward job with a pretrained style
# a long file name is cut at 64 bytes, never inside a UTF-8 character:
# "ab" + 30 x "€" (3 bytes each) keeps "ab" + 20 x "€" (62 bytes)
long_name="ab$(printf '€%.0s' $(seq 30)).jpg"
id2=$(submit -F "content=@$content;filename=$long_name" -F net=scream -F size=64 -F strength=0.5)
if wait_job "$id2" done 120; then
    ok
    grep -q "\"names\":\[\"ab$(printf '€%.0s' $(seq 20))\"\]" "$tmp/body" && ok ||
        bad "a long name is not cut at a character: $(grep -o '"names":[^]]*]' "$tmp/body")"
    get_png "$url/api/jobs/$id2/result" "$tmp/apply.png" 64x48 "apply result"
else
    bad "apply job $id2 did not finish: $(cat "$tmp/body")"
fi

# any painting in one pass (fast=1): the arbitrary-style pair, strength 0 and 1
req 200 '"arbitrary":\{"name":"magenta-arbitrary"[^}]*"installed":true' "models: arbitrary pair" -- "$url/api/models"
fast0=$(submit -F content=@"$content" -F style=@"$style" -F fast=1 -F size=96 -F strength=0)
fast1=$(submit -F content=@"$content" -F style=@"$style" -F fast=1 -F size=96 -F strength=1)
if wait_job "$fast0" done 120 && wait_job "$fast1" done 120; then
    ok
    [ "$(json kind)" = apply ] && [ "$(json styles)" = 1 ] && grep -q '"params":{"fast":1,"size":96,"strength":1}' "$tmp/body" &&
        ok || bad "fast job: $(cat "$tmp/body")"
    get_png "$url/api/jobs/$fast0/result" "$tmp/fast0.png" 96x72 "fast result, strength 0"
    get_png "$url/api/jobs/$fast1/result" "$tmp/fast1.png" 96x72 "fast result, strength 1"
    ! cmp -s "$tmp/fast1.png" "$data/jobs/$fast1/content.png" && ok || bad "fast result equals the photo"
    ! cmp -s "$tmp/fast0.png" "$tmp/fast1.png" && ok || bad "fast results of strength 0 and 1 are equal"
else
    bad "fast jobs $fast0/$fast1 did not finish: $(cat "$tmp/body")"
fi
req 400 "fast=1 paints in the style of a painting: a 'style' image is needed" "fast without a painting" -- \
    -F content=@"$content" -F fast=1 "$url/api/jobs"
echo "not a painting" > "$tmp/painting.png"
req 400 '"error":"style 1: not an image \(unrecognised format' "fast with a broken painting" -- \
    -F content=@"$content" -F style=@"$tmp/painting.png" -F fast=1 "$url/api/jobs"
req 400 "field 'iterations' is for optimisations, not for fast \(instant\) jobs" "fast with iterations" -- \
    -F content=@"$content" -F style=@"$style" -F fast=1 -F iterations=5 "$url/api/jobs"
req 400 "field 'strength' is for pretrained-style jobs, fast \(instant\) jobs and video jobs, not for optimisations" \
    "an optimisation with strength" -- -F content=@"$content" -F style=@"$style" -F strength=0.5 "$url/api/jobs"
req 400 "field 'iterations' is for optimisations, not for pretrained-style jobs" "a net job with iterations" -- \
    -F content=@"$content" -F net=scream -F iterations=50 "$url/api/jobs"
req 400 "field 'temporal' is for video jobs, not for pretrained-style jobs" "temporal on a picture" -- \
    -F content=@"$content" -F net=scream -F temporal=0.5 "$url/api/jobs"
req 400 "field 'fast' is for 'style' paintings" "fast with a net" -- \
    -F content=@"$content" -F net=scream -F fast=1 "$url/api/jobs"
req 400 "fast: 2 is out of range 0\.\.1" "fast out of range" -- \
    -F content=@"$content" -F style=@"$style" -F fast=2 "$url/api/jobs"
req 200 "^\[\{\"id\":$fast1,.*\{\"id\":$id2,.*\{\"id\":$id," "job list, newest first" -- "$url/api/jobs"

# regions: a mask (128x96, shrunk to the job's 64x48: the left half black,
# the right half red) and a painting or none per colour; the black half
# keeps the photo, as an optimisation and as a fast job
pixels=$(dirname "$0")/pixels.py
/usr/bin/python3 "$pixels" mask 128 96 "$tmp/mask.ppm"
ropt=$(submit -F content=@"$content" -F style=@"$style" -F mask=@"$tmp/mask.ppm" -F 'regions=#000000=none,#ff0000=1' \
              -F size=64 -F iterations=20 -F seed=3)
rfast=$(submit -F content=@"$content" -F style=@"$style" -F mask=@"$tmp/mask.ppm" -F 'regions=black=none,red=1' \
               -F fast=1 -F size=64)
for r in $ropt $rfast; do
    if wait_job "$r" done 300; then
        ok
        grep -q '"regions":"[#a-z0-9]*=none,[#a-z0-9]*=1"' "$tmp/body" && ok || bad "regions job $r: $(cat "$tmp/body")"
        get_png "$url/api/jobs/$r/result" "$tmp/regions.png" 64x48 "regions result"
        [ "$(png_size "$data/jobs/$r/mask.png")" = 64x48 ] && ok ||
            bad "job $r's mask is stored at $(png_size "$data/jobs/$r/mask.png"), want the photo's 64x48"
        # columns 0..23 (the edge at 32, feathered over 4 px): the photo; 40..63 painted
        read -r most mean < <(/usr/bin/python3 "$pixels" diff "$tmp/regions.png" "$data/jobs/$r/content.png" 0 24)
        [ "$most" -le 2 ] && ok || bad "job $r: the 'none' region differs from the photo by up to $most (mean $mean)"
        read -r most mean < <(/usr/bin/python3 "$pixels" diff "$tmp/regions.png" "$data/jobs/$r/content.png" 40 64)
        awk -v m="$mean" 'BEGIN { exit !(m > 3) }' && ok ||
            bad "job $r: the painted region is the photo (mean difference $mean)"
    else
        bad "regions job $r did not finish: $(cat "$tmp/body")"
    fi
done
# a label that no pixel of the mask has fails the job with the library's message
rmiss=$(submit -F content=@"$content" -F style=@"$style" -F mask=@"$tmp/mask.ppm" -F 'regions=black=none,blue=1' \
               -F size=48 -F iterations=5)
wait_job "$rmiss" failed 120 && [ "$(json error)" = "no pixel of the mask has the label colour #0000ff" ] && ok ||
    bad "a label missing from the mask: $(cat "$tmp/body")"
/usr/bin/python3 "$pixels" mask 64 64 "$tmp/square.ppm"
rreq() { # rreq PATTERN DESCRIPTION REGIONS [curl arguments]: a refused job with a mask and regions
    local pattern=$1 what=$2 regions=$3; shift 3
    req 400 "\"error\":\"$pattern" "$what" -- -F content=@"$content" -F style=@"$style" -F regions="$regions" "$@" "$url/api/jobs"
}
m=(-F mask=@"$tmp/mask.ppm")
rreq "regions: 'white' is not LABEL=K \(K: a style image's number 1\.\.16, or none\)\"" "regions: no =" white "${m[@]}"
rreq "regions: '' is not LABEL=K" "regions: an empty entry" "black=none,,red=1" "${m[@]}"
rreq "regions: mask label '#12': expected #rrggbb, #rgb, a grey level 0\.\.255 or one of black, white," \
    "regions: a bad label" "#12=1" "${m[@]}"
rreq "regions: 'red=17': K must be a style image's number 1\.\.16 or none\"" "regions: K 17" "black=none,red=17" "${m[@]}"
rreq "regions: 'red=0': K must be" "regions: K 0" "black=none,red=0" "${m[@]}"
rreq "regions: 'red=first': K must be" "regions: K a word" "black=none,red=first" "${m[@]}"
rreq "regions: label 'red' given twice\"" "regions: a label twice" "red=1,red=none" "${m[@]}"
rreq "regions: labels 'white' and '#fff' are the same colour\"" "regions: a colour twice" "white=1,#fff=none" "${m[@]}"
rreq "regions: more than 16 regions\"" "regions: 17" "$(seq -s, -f '%g=1' 0 16)" "${m[@]}"
rreq "regions: style 2, but there is 1 style image\"" "regions: K beyond the paintings" "black=none,red=2" "${m[@]}"
rreq "regions: every region keeps the photo \(none\): paint at least one\"" "regions: all none" \
    "black=none,red=none" "${m[@]}"
rreq "a 'mask' image and a 'regions' field go together" "regions without a mask" "black=none,red=1"
req 400 "a 'mask' image and a 'regions' field go together \(LABEL=K,\.\.\.: the painting of each colour of the mask\), not one without the other" \
    "a mask without regions" -- -F content=@"$content" -F style=@"$style" "${m[@]}" "$url/api/jobs"
req 400 "field 'regions' is for optimisations and fast \(instant\) jobs, not for pretrained-style jobs" \
    "regions with a net" -- -F content=@"$content" -F net=scream "${m[@]}" -F regions=black=none,red=1 "$url/api/jobs"
req 400 "a 'mask' is for optimisations and fast \(instant\) jobs, with 'style' images" "a mask with a net" -- \
    -F content=@"$content" -F net=scream "${m[@]}" "$url/api/jobs"
rreq "mask: 64x64 pixels, but the content is 1024x768: the mask must have the photo's shape \(aspect ratios within 2 %\)" \
    "a mask of another shape" "black=none,red=1" -F mask=@"$tmp/square.ppm"
rreq "mask: not an image \(unrecognised format" "a mask that is not an image" "black=none,red=1" -F mask=@"$pixels"
rreq "more than one mask" "two masks" "black=none,red=1" "${m[@]}" "${m[@]}"

# cancel a long job, queued or running
id3=$(submit -F content=@"$content" -F style=@"$style" -F size=64 -F iterations=2000)
req 200 '"state":"(queued|running|cancelled)"' "cancel" -- -X DELETE "$url/api/jobs/$id3"
wait_job "$id3" cancelled 60 && ok || bad "job $id3 not cancelled: $(cat "$tmp/body")"
req 404 "\"error\":\"job $id3 was cancelled: it has no result\"" "result of a cancelled job" -- "$url/api/jobs/$id3/result"

# bad requests: each a 4xx with a message
head -c 1500000 /dev/urandom > "$tmp/big.png"
req 413 '"error":"upload of [0-9.]+ MB, more than the 1 MB allowed"' "oversized upload" -- \
    -F content=@"$tmp/big.png" -F style=@"$style" "$url/api/jobs"
echo "hello, I am not a picture" > "$tmp/text.png"
req 400 '"error":"content: not an image \(unrecognised format' "a text file as an image" -- \
    -F content=@"$tmp/text.png" -F style=@"$style" "$url/api/jobs"
# BMP, TGA, GIF are stb_image's, which the server does not use (its fixes lag): refused
"$nst" apply --net "$shared/models/fast/wave" --size 32 -q "$content" -o "$tmp/small.bmp" || bad "a BMP to upload"
req 400 '"error":"content: not an image \(unrecognised format; PNG, JPEG, WebP, HEIC, AVIF or PNM\)"' \
    "a BMP upload" -- -F content=@"$tmp/small.bmp" -F style=@"$style" "$url/api/jobs"
head -c 3000 "$tmp/result.png" > "$tmp/truncated.png"
req 400 '"error":"style 1: corrupt or truncated image' "a truncated PNG" -- \
    -F content=@"$content" -F style=@"$tmp/truncated.png" "$url/api/jobs"
req 413 '"error":"content: image of 1200x1528 pixels, more than the 1 MP allowed"' "too many pixels" -- \
    -F content=@"$shared/images/style/the_scream.jpg" -F style=@"$style" "$url/api/jobs"
req 400 '"error":"iterations: -5 is out of range 1\.\.2000"' "negative iterations" -- \
    -F content=@"$content" -F style=@"$style" -F iterations=-5 "$url/api/jobs"
req 400 '"error":"size: 99999 is out of range 16\.\.1024"' "size too large" -- \
    -F content=@"$content" -F style=@"$style" -F size=99999 "$url/api/jobs"
req 400 '"error":"style_weight: .abc. is not a number"' "not a number" -- \
    -F content=@"$content" -F style=@"$style" -F style_weight=abc "$url/api/jobs"
req 400 '"error":"optimizer: .sgd. is not one of lbfgs\|adam"' "unknown choice" -- \
    -F content=@"$content" -F style=@"$style" -F optimizer=sgd "$url/api/jobs"
req 400 '"error":"color_transfer: .sepia. is not one of none\|luminance\|histogram"' "unknown colour control" -- \
    -F content=@"$content" -F net=udnie -F color_transfer=sepia "$url/api/jobs"
req 400 "\"error\":\"unknown field 'colour'\"" "unknown field" -- \
    -F content=@"$content" -F style=@"$style" -F colour=red "$url/api/jobs"
req 400 '"error":"a .content. image is needed"' "no content" -- -F style=@"$style" "$url/api/jobs"
req 400 "neither" "no style nor net" -- -F content=@"$content" "$url/api/jobs"
req 400 "both" "style and net" -- -F content=@"$content" -F style=@"$style" -F net=scream "$url/api/jobs"
req 400 "field 'content' must be a file" "content as text" -- -F content=photo -F net=scream "$url/api/jobs"
req 415 "multipart/form-data" "not a form" -- -H 'Content-Type: application/json' -d '{"size":1}' "$url/api/jobs"
req 404 '"error":"no job 999999"' "unknown job id" -- "$url/api/jobs/999999"
req 404 '"error":"no job 999999"' "unknown job id (delete)" -- -X DELETE "$url/api/jobs/999999"
req 404 '"error":"no such job' "non-numeric job id" -- "$url/api/jobs/abc"
req 404 '"error":"no such page' "unknown page" -- "$url/favicon.ico"
req 405 '"error":"PUT not allowed' "wrong method" -- -X PUT "$url/api/jobs/$id"
# ../ in every place a request can hold it
req 400 "net: '../../../etc/passwd' is not a pretrained style" "../ in net" -- \
    -F content=@"$content" -F net=../../../etc/passwd "$url/api/jobs"
req 400 "size: '../1' is not an integer" "../ in a number" -- \
    -F content=@"$content" -F style=@"$style" -F size=../1 "$url/api/jobs"
req 400 "unknown field '../size'" "../ in a field name" -- \
    -F content=@"$content" -F style=@"$style" -F ../size=64 "$url/api/jobs"
req 400 "content: file name '../../evil.png' holds a path" "../ in a file name" -- \
    -F "content=@$content;filename=../../evil.png" -F style=@"$style" "$url/api/jobs"
req 400 "optimizer: '../adam' is not one of" "../ in a choice" -- \
    -F content=@"$content" -F style=@"$style" -F optimizer=../adam "$url/api/jobs"
req 404 '"error":"no such (job|page)' "../ in the path" -- --path-as-is "$url/api/jobs/../../etc/passwd"
req 404 '"error":"no such resource' "../ after a job id" -- --path-as-is "$url/api/jobs/$id/../../x"
[ -z "$(find "$data" -name '*evil*')" ] && ok || bad "a client's file name reached the disk"
# refused uploads leave no job and no files behind
n_dirs=$(ls "$data/jobs" | wc -l)
[ "$n_dirs" = 8 ] && ok || bad "$n_dirs job directories, want 8: $(ls "$data/jobs")"

# garbage and a client that vanishes mid-upload do not disturb the server;
# the refused uploads above took no job id: the next job's follows id3's
id4=$(submit -F content=@"$content" -F style=@"$style" -F size=48 -F iterations=30)
[ "$id4" = $((id3 + 1)) ] && ok || bad "job ids: $id4 after $id3 and the refused uploads"
req 404 "\"error\":\"job $id4 has no result yet \(it is (queued|running)\)\"" "result of a queued job" -- "$url/api/jobs/$id4/result"
printf 'GARBAGE\r\n\r\n\x00\x01\x02' | curl -s --max-time 5 -o /dev/null telnet://"${url#http://}" || true
curl -s --max-time 0.5 --limit-rate 20k -F content=@"$content" -F style=@"$style" -o /dev/null "$url/api/jobs"
req 200 '"id"' "still serving after garbage" -- "$url/api/jobs/$id4"
wait_job "$id4" done 300 && ok || bad "job $id4 disturbed: $(cat "$tmp/body")"

# queue limit: a server that takes one job at a time
stop_server
grep -q "stopping" "$log" && ok || bad "no clean stop: $(cat "$log")"
start_server "$data" --max-queue 1
long=$(submit -F content=@"$content" -F style=@"$style" -F size=64 -F iterations=2000)
req 429 '"error":"the queue is full \(1 jobs\)' "queue full" -- -F content=@"$content" -F net=scream "$url/api/jobs"
req 200 '"state":"(queued|running|cancelled)"' "cancel the long job" -- -X DELETE "$url/api/jobs/$long"
wait_job "$long" cancelled 60 && ok || bad "job $long not cancelled"
req 200 '"state":"done"' "results kept across restarts" -- "$url/api/jobs/$id"
kill -0 "$server_pid" && ok || bad "the server died"

# DELETE on an ended job removes it and every file of it
[ -f "$data/jobs/$id3/content.png" ] && ok || bad "the cancelled job's upload is not there to delete"
req 200 "\"id\":$id3,\"deleted\":true" "delete an ended job" -- -X DELETE "$url/api/jobs/$id3"
[ ! -e "$data/jobs/$id3" ] && ok || bad "deleted job $id3 left $(ls "$data/jobs/$id3")"
req 404 "no job $id3" "a deleted job" -- "$url/api/jobs/$id3"
req 404 "no job $id3" "delete it twice" -- -X DELETE "$url/api/jobs/$id3"
req 200 '"state":"done"' "the other jobs stay" -- "$url/api/jobs/$id"

# --retention: at the start (then each minute) ended jobs older than that go
stop_server
sleep 2
start_server "$data" --retention 0.00001   # 0.9 s
grep -q "deleted [0-9]* jobs that ended more than" "$log" && ok || bad "no retention message: $(cat "$log")"
req 404 "no job $id" "an expired job" -- "$url/api/jobs/$id"
[ ! -e "$data/jobs/$id" ] && ok || bad "expired job $id left its files"

# what one client may spend: requests a second, jobs at a time, memory
stop_server
start_server "$tmp/limits" --rate 1 --max-client-jobs 2 --max-memory 64
# 8 requests at once on one connection: the burst of 2 s x 1 passes (one
# more if the bucket refilled meanwhile), the rest are refused
curl -s -o "$tmp/r#1" -w '%{http_code} %header{retry-after}\n' --max-time 20 "$url/api/limits?[1-8]" > "$tmp/codes"
n200=$(grep -c '^200 $' "$tmp/codes"); n429=$(grep -c '^429 [12]$' "$tmp/codes")
[ "$n200" -ge 2 ] && [ "$n200" -le 3 ] && [ $((n200 + n429)) = 8 ] && ok ||
    bad "rate 1/s, 8 requests at once: $n200 answered 200 and $n429 429, want 2 or 3 and the rest 429 with Retry-After 1 or 2: $(cat "$tmp/codes")"
grep -q '"error": "more than 1 requests a second from your address: try again in [0-9.]* s"' "$tmp/r8" && ok ||
    bad "over the rate: $(cat "$tmp/r8")"
req 200 '"rate":1' "another address is not limited" -- --interface 127.0.0.2 "$url/api/limits"
sleep 1.2
req 200 '"max_client_jobs":2' "the same address a second later" -- "$url/api/limits"
stop_server
start_server "$tmp/limits" --max-client-jobs 2 --max-memory 64
for k in 1 2; do
    req 201 '"id"' "job $k of one address" -- --interface 127.0.0.3 -F content=@"$content" -F style=@"$style" \
        -F size=32 -F iterations=2000 "$url/api/jobs"
done
req 429 '"error":"you have 2 jobs queued or running, the most one address may have' "a third job of one address" \
    -- --interface 127.0.0.3 -F content=@"$content" -F net=scream -F size=32 "$url/api/jobs"
other=$(submit --interface 127.0.0.4 -F content=@"$content" -F net=scream -F size=32)
[ -n "$other" ] && ok || bad "another address's job was refused"
# --max-memory 64 MB: 512 px with 100 L-BFGS pairs needs far more (about 570 MB)
req 413 '"error":"the job would need about [0-9.]+ [MG]B of memory, more than the 64 MB one optimisation may use here' \
    "a job too big for the memory" -- --interface 127.0.0.5 -F content=@"$content" -F style=@"$style" -F size=512 \
    -F lbfgs_history=100 "$url/api/jobs"
[ -z "$(ls "$tmp/limits/jobs" | grep -v -x -e 1 -e 2 -e "$other")" ] && ok ||
    bad "the refused jobs left files: $(ls "$tmp/limits/jobs")"
for k in 1 2; do curl -s -o /dev/null -X DELETE "$url/api/jobs/$k"; done

# a database made before the files' names were kept still opens; its jobs have none
stop_server
mkdir -p "$tmp/olddb"
/usr/bin/python3 -c "
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute('CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, styles INTEGER NOT NULL DEFAULT 0, net TEXT, created REAL, started REAL, finished REAL, progress REAL NOT NULL DEFAULT 0, iteration INTEGER, total INTEGER, scale INTEGER, scales INTEGER, loss REAL, content_loss REAL, style_loss REAL, tv_loss REAL, elapsed REAL, remaining REAL, error TEXT)')
db.execute(\"INSERT INTO jobs(kind, state, params, styles, net, created, finished) VALUES('apply', 'done', '{}', 0, 'scream', 1, 2)\")
db.commit()" "$tmp/olddb/nst.db"
start_server "$tmp/olddb"
req 200 '"id":1,"kind":"apply","state":"done","params":\{\},"names":null' "an old database's job" -- "$url/api/jobs/1"
finish
