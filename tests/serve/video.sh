#!/usr/bin/env bash
# nst serve's video jobs and live camera over loopback: a 2-second clip
# through a pretrained style to an H.264 MP4 of every frame, frame progress,
# cancel; a too-long clip, a non-video and a corrupt clip refused with a
# message; camera frames stylised per session, bad ones refused, the session
# limit answered 429; the server keeps serving throughout.
# usage: video.sh NST_BINARY SHARED_DIR
nst=$1 shared=$2
. "$(dirname "$0")/lib.sh"
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null ||
    { echo "FAIL ffmpeg/ffprobe missing (scripts/setup.sh installs them)"; echo "0 passed, 1 failed"; exit 1; }
ff() { ffmpeg -v error -y -f lavfi "$@"; }
ff -i testsrc=size=160x120:rate=12 -t 2 -pix_fmt yuv420p "$tmp/clip.mp4"
ff -i testsrc=size=160x120:rate=12 -t 6 -pix_fmt yuv420p "$tmp/long.mp4"
ff -i testsrc=size=160x120:rate=12 -t 4 -pix_fmt yuv420p "$tmp/cancel.mp4"
ff -i testsrc=size=160x120:rate=1 -frames:v 1 "$tmp/frame.jpg"
ff -i testsrc=size=200x100:rate=1 -frames:v 1 "$tmp/frame2.png"

start_server "$tmp/data" --max-video-seconds 5 --max-camera 2
t0=$(date +%s)
id=$(submit -F video=@"$tmp/clip.mp4" -F net=wave -F temporal=0.5 -F size=160)
[ -n "$id" ] && ok || bad "video job not created"
if wait_job "$id" done 120; then
    ok
    [ "$(json kind)" = video ] && [ "$(json frame)" = 24 ] && [ "$(json frames)" = 24 ] &&
        [ "$(json progress)" = 1 ] && ok || bad "finished video job: $(cat "$tmp/body")"
    got=$(curl -s -o "$tmp/result.mp4" -w '%{http_code} %{content_type}' "$url/api/jobs/$id/result")
    [ "$got" = "200 video/mp4" ] && ok || bad "video result: HTTP $got"
    probe=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=codec_name,width,height,nb_read_frames \
        -of csv=p=0 "$tmp/result.mp4")
    [ "$probe" = "h264,160,120,24" ] && ok || bad "result stream: '$probe', want h264,160,120,24"
else
    bad "video job $id did not finish: $(cat "$tmp/body")"
fi
echo "video job: $(( $(date +%s) - t0 )) s"

# progress is shown frame by frame, and cancel stops the job
id2=$(submit -F video=@"$tmp/cancel.mp4" -F net=wave -F size=160)
seen=0
for _ in $(seq 1 300); do
    curl -s -o "$tmp/body" "$url/api/jobs/$id2"
    f=$(json frame); [ "${f:-0}" -gt 0 ] 2>/dev/null && { seen=1; break; }
    sleep 0.2
done
[ "$seen" = 1 ] && [ "$(json frames)" = 48 ] && ok || bad "no frame progress: $(cat "$tmp/body")"
req 200 '"state":"(running|cancelled)"' "cancel a video job" -- -X DELETE "$url/api/jobs/$id2"
wait_job "$id2" cancelled 60 && ok || bad "video job $id2 not cancelled: $(cat "$tmp/body")"
req 404 "job $id2 was cancelled: it has no result" "result of a cancelled video job" -- "$url/api/jobs/$id2/result"

# refused clips: each a 4xx with a message, no job left behind
req 413 '"error":"video: clip of 6\.0 s, longer than the 5 s allowed"' "too long a clip" -- \
    -F video=@"$tmp/long.mp4" -F net=wave "$url/api/jobs"
echo "hello, I am not a video" > "$tmp/text.mp4"
req 400 '"error":"video: not a video clip' "a text file as a clip" -- -F video=@"$tmp/text.mp4" -F net=wave "$url/api/jobs"
printf '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\n/etc/passwd\n' > "$tmp/list.mp4"
req 400 '"error":"video: not a video clip' "a playlist as a clip" -- -F video=@"$tmp/list.mp4" -F net=wave "$url/api/jobs"
head -c 2000 "$tmp/clip.mp4" > "$tmp/truncated.mp4"
req 400 '"error":"video: ' "a truncated clip" -- -F video=@"$tmp/truncated.mp4" -F net=wave "$url/api/jobs"
req 400 "a video job takes" "a clip without a net" -- -F video=@"$tmp/clip.mp4" "$url/api/jobs"
req 400 "a video job takes" "a clip and a photo" -- -F video=@"$tmp/clip.mp4" -F content=@"$content" -F net=wave "$url/api/jobs"
req 400 "temporal: 2 is out of range" "temporal out of range" -- -F video=@"$tmp/clip.mp4" -F net=wave -F temporal=2 "$url/api/jobs"
n_dirs=$(ls "$tmp/data/jobs" | wc -l)
[ "$n_dirs" = 2 ] && ok || bad "$n_dirs job directories, want 2"
# a clip that opens but breaks mid-way: the job fails with the library's message
ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=12 -t 2 -pix_fmt yuv420p -movflags +faststart "$tmp/fast.mp4"
head -c $(( $(stat -c %s "$tmp/fast.mp4") / 2 )) "$tmp/fast.mp4" > "$tmp/half.mp4"
id3=$(submit -F video=@"$tmp/half.mp4" -F net=wave)
if [ -n "$id3" ]; then
    wait_job "$id3" any-end 60
    [ "$(json state)" = failed ] && grep -q '"error":"video: corrupt or truncated' "$tmp/body" && ok ||
        bad "half a clip: $(cat "$tmp/body")"
else
    req 400 '"error":"video: ' "half a clip" -- -F video=@"$tmp/half.mp4" -F net=wave "$url/api/jobs"
fi

# the live camera: JPEG frames in, JPEG frames of the same size out
cam() { curl -s -o "$tmp/cam.jpg" -w '%{http_code} %{content_type}' --max-time 60 -H 'Content-Type: image/jpeg' \
    --data-binary @"$1" "$url/api/camera?net=${3:-wave}&session=$2"; }
t0=$(date +%s.%N)
for i in 1 2 3 4 5; do got=$(cam "$tmp/frame.jpg" s1); done
echo "camera: 5 frames 160x120 in $(echo "$(date +%s.%N) - $t0" | bc) s"
[ "$got" = "200 image/jpeg" ] && ok || bad "camera frame: HTTP $got $(head -c 200 "$tmp/cam.jpg")"
wh=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$tmp/cam.jpg")
[ "$wh" = "160,120" ] && ok || bad "camera frame size '$wh', want 160,120"
got=$(cam "$tmp/frame2.png" s1)   # a new size: the session starts again
wh=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$tmp/cam.jpg")
[ "$got" = "200 image/jpeg" ] && [ "$wh" = "200,100" ] && ok || bad "camera, new size: $got '$wh'"
got=$(cam "$tmp/frame.jpg" s2 scream)
[ "$got" = "200 image/jpeg" ] && ok || bad "second session: HTTP $got"
req 429 '"error":"2 camera sessions are open' "camera session limit" -- -H 'Content-Type: image/jpeg' \
    --data-binary @"$tmp/frame.jpg" "$url/api/camera?net=wave&session=s3"
req 400 '"error":"camera frame: not an image' "camera: not an image" -- -H 'Content-Type: image/jpeg' \
    --data-binary @"$tmp/text.mp4" "$url/api/camera?net=wave&session=s1"
req 400 "net: 'nope' is not a pretrained style" "camera: unknown net" -- -H 'Content-Type: image/jpeg' \
    --data-binary @"$tmp/frame.jpg" "$url/api/camera?net=nope&session=s1"
req 400 "session" "camera: bad session id" -- -H 'Content-Type: image/jpeg' \
    --data-binary @"$tmp/frame.jpg" "$url/api/camera?net=wave&session=../x"
req 405 "not allowed" "camera: GET" -- "$url/api/camera?net=wave&session=s1"
req 200 '"id"' "still serving" -- "$url/api/jobs/$id"
kill -0 "$server_pid" && ok || bad "the server died"
finish
