#!/usr/bin/env bash
# nst video as a user meets it: a clip made here and a cut of the shared clip
# come out with their frames, timestamps and sound (ffprobe); temporal
# consistency lowers the warping error; bad input is a one-line error naming
# the file, exit 1 or 2, and no output; an interrupted optimisation resumed
# with --resume ends with the frames of an uninterrupted run.
# usage: video_cli.sh NST_BINARY SHARED_DIR
nst=$1
shared=$2
clip=$shared/videos/big_buck_bunny_360p.mp4
net=$shared/models/fast/wave
style=$shared/images/style/wave.jpg
. "$(dirname "$0")/lib.sh"
need_files "$clip" "$net/manifest.json" "$style" "$shared/models/darknet-tiny/model.json"
need_command ffprobe ffmpeg
check() { if eval "$1"; then ok; else bad "$2"; fi; }
probe() { ffprobe -v error -select_streams "$2" -show_entries "$3" -of csv=p=0 "$1" | head -1 | sed 's/,$//'; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; exit !(d < t && -d < t) }'; }

# 1. a clip with sound made here, 2 s at 12 fps
ffmpeg -v error -f lavfi -i testsrc2=size=160x120:rate=12 -f lavfi -i sine=frequency=440:sample_rate=44100 \
    -t 2 -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$tmp/clip.mp4"
expect 0 "wrote $tmp/out.mp4" "a clip" -- "$nst" video --net "$net" "$tmp/clip.mp4" "$tmp/out.mp4"
check '[ "$(probe "$tmp/out.mp4" v:0 stream=codec_name,width,height,nb_frames)" = "h264,160,120,24" ]' \
    "video stream: $(probe "$tmp/out.mp4" v:0 stream=codec_name,width,height,nb_frames)"
check '[ "$(probe "$tmp/out.mp4" a:0 stream=codec_name)" = aac ]' "no aac audio in the result"
check 'near "$(probe "$tmp/out.mp4" a:0 stream=duration)" "$(probe "$tmp/clip.mp4" a:0 stream=duration)" 0.05' \
    "audio duration $(probe "$tmp/out.mp4" a:0 stream=duration) vs $(probe "$tmp/clip.mp4" a:0 stream=duration)"
check '[ "$(probe "$tmp/out.mp4" v:0 stream=r_frame_rate)" = 12/1 ]' "frame rate $(probe "$tmp/out.mp4" v:0 stream=r_frame_rate)"

# 2. a cut of the shared clip, scaled: frames, timestamps, audio
expect 0 "report: 24 frames of 320x180" "a cut of the shared clip" -- "$nst" video --net "$net" --start 30 \
    --duration 1 --size 320 --report "$clip" "$tmp/cut.mp4"
temporal=$(sed -n 's/.*warping error \([0-9.]*\) (input \([0-9.]*\).*/\1 \2/p' "$tmp/stderr")
check '[ "$(probe "$tmp/cut.mp4" v:0 stream=nb_frames)" = 24 ]' "cut: $(probe "$tmp/cut.mp4" v:0 stream=nb_frames) frames"
check 'near "$(probe "$tmp/cut.mp4" v:0 stream=duration)" 1.0 0.05' "cut: video $(probe "$tmp/cut.mp4" v:0 stream=duration) s"
check 'near "$(probe "$tmp/cut.mp4" a:0 stream=duration)" 1.0 0.1' "cut: audio $(probe "$tmp/cut.mp4" a:0 stream=duration) s"
check '[ "$(probe "$tmp/cut.mp4" v:0 frame=pts_time)" = 0.000000 ]' "cut: first timestamp $(probe "$tmp/cut.mp4" v:0 frame=pts_time)"
expect 0 "report:" "the cut per frame" -- "$nst" video --net "$net" --start 30 --duration 1 --size 320 \
    --temporal 0 --report --no-audio "$clip" "$tmp/perframe.mp4"
perframe=$(sed -n 's/.*warping error \([0-9.]*\) (input.*/\1/p' "$tmp/stderr")
echo "  warping error on 1 s of the shared clip: per frame $perframe, temporal ${temporal% *}, input ${temporal#* }"
check 'awk -v t="${temporal% *}" -v p="$perframe" "BEGIN { exit !(t < 0.5 * p) }"' \
    "temporal warping error ${temporal% *} is not under half of per-frame $perframe"
check '[ -z "$(probe "$tmp/perframe.mp4" a:0 stream=codec_name)" ]' "--no-audio kept a sound stream"

# 2b. any painting in one pass (--method arbitrary), temporal vs per frame
pair=$shared/models/magenta-arbitrary
if [ -f "$pair/style_transfer_f16_384.tflite" ]; then
    expect 0 "report: 24 frames of 320x180" "arbitrary style" -- "$nst" video --method arbitrary -s "$style" \
        --start 30 --duration 1 --size 320 --report "$clip" "$tmp/arb.mp4"
    at=$(sed -n 's/.*warping error \([0-9.]*\) (input.*/\1/p' "$tmp/stderr")
    expect 0 "report:" "arbitrary style per frame" -- "$nst" video --method arbitrary -s "$style" --temporal 0 \
        --start 30 --duration 1 --size 320 --report --no-audio "$clip" "$tmp/arb0.mp4"
    ap=$(sed -n 's/.*warping error \([0-9.]*\) (input.*/\1/p' "$tmp/stderr")
    echo "  arbitrary style, warping error: per frame $ap, temporal $at"
    check 'awk -v t="$at" -v p="$ap" "BEGIN { exit !(t < 0.5 * p) }"' "arbitrary: temporal $at is not under half of per-frame $ap"
    expect 2 "--method arbitrary needs a style image" "arbitrary without -s" -- "$nst" video --method arbitrary "$clip" "$tmp/arb1.mp4"
else
    bad "missing test data $pair/style_transfer_f16_384.tflite"
fi

# 3. other outputs: WebM (Opus sound), GIF, a PNG sequence
expect 0 "" "webm" -- "$nst" video --net "$net" "$tmp/clip.mp4" "$tmp/out.webm"
check '[ "$(probe "$tmp/out.webm" v:0 stream=codec_name)" = vp9 ] && [ "$(probe "$tmp/out.webm" a:0 stream=codec_name)" = opus ]' \
    "webm: $(probe "$tmp/out.webm" v:0 stream=codec_name) / $(probe "$tmp/out.webm" a:0 stream=codec_name)"
expect 0 "" "gif" -- "$nst" video --net "$net" --duration 0.5 "$tmp/clip.mp4" "$tmp/out.gif"
check '[ "$(probe "$tmp/out.gif" v:0 stream=codec_name)" = gif ]' "gif: $(probe "$tmp/out.gif" v:0 stream=codec_name)"
mkdir "$tmp/frames"
expect 0 "" "png sequence" -- "$nst" video --net "$net" --duration 0.5 "$tmp/clip.mp4" "$tmp/frames/%04d.png"
check '[ "$(ls "$tmp/frames" | wc -l)" = 6 ]' "png sequence: $(ls "$tmp/frames" | wc -l) files, want 6"
expect 0 "" "png sequence as input" -- "$nst" video --net "$net" --temporal 0 "$tmp/frames/%04d.png" "$tmp/seq.mp4"
check '[ "$(probe "$tmp/seq.mp4" v:0 stream=nb_frames)" = 6 ]' "sequence input: $(probe "$tmp/seq.mp4" v:0 stream=nb_frames) frames"

# 4. bad input: one line naming the file, no output left behind
echo "hello" > "$tmp/text.mp4"
head -c 20000 "$clip" > "$tmp/trunc.mp4"
: > "$tmp/empty.mp4"
before=$(ls -A "$tmp" | wc -l)
expect 1 "$tmp/text.mp4" "not a video" -- "$nst" video --net "$net" "$tmp/text.mp4" "$tmp/bad1.mp4"
expect 1 "$tmp/trunc.mp4" "truncated video" -- "$nst" video --net "$net" "$tmp/trunc.mp4" "$tmp/bad2.mp4"
expect 1 "$tmp/empty.mp4" "empty file" -- "$nst" video --net "$net" "$tmp/empty.mp4" "$tmp/bad3.mp4"
expect 1 "$tmp/nope.mp4" "missing input" -- "$nst" video --net "$net" "$tmp/nope.mp4" "$tmp/bad4.mp4"
expect 2 "no frames" "a cut past the end (a bad argument)" -- "$nst" video --net "$net" --start 10 "$tmp/clip.mp4" "$tmp/bad5.mp4"
expect 2 "$tmp/bad.avi: unsupported video output" "output format" -- "$nst" video --net "$net" "$tmp/clip.mp4" "$tmp/bad.avi"
expect 2 "$tmp/no/such/dir" "unwritable output" -- "$nst" video --net "$net" "$tmp/clip.mp4" "$tmp/no/such/dir/o.mp4"
expect 2 "--temporal: 2 is out of range" "temporal out of range" -- "$nst" video --net "$net" --temporal 2 "$tmp/clip.mp4" "$tmp/bad6.mp4"
expect 2 "--start: 'soon' is not a time" "bad time" -- "$nst" video --net "$net" --start soon "$tmp/clip.mp4" "$tmp/bad7.mp4"
expect 2 "style network is needed" "no network" -- "$nst" video "$tmp/clip.mp4" "$tmp/bad8.mp4"
expect 2 "input and an output" "no output" -- "$nst" video --net "$net" "$tmp/clip.mp4"
expect 2 "resume" "resume a network run" -- "$nst" video --net "$net" --resume "$tmp/clip.mp4" "$tmp/bad9.mp4"
check '[ "$(ls -A "$tmp" | wc -l)" = "$before" ]' "bad runs left files: $(ls -A "$tmp" | tr '\n' ' ')"

# 5. optimisation: interrupted (SIGINT after 2 frames) and resumed ends as an uninterrupted run
ffmpeg -v error -f lavfi -i testsrc2=size=96x72:rate=8 -t 1.5 -c:v libx264 -pix_fmt yuv420p "$tmp/tiny.mp4"
opt=("$nst" video --method optimize -s "$style" --iterations 30 --iterations-first 40)
mkdir -p "$tmp/full" "$tmp/part"
expect 0 "" "optimize" -- "${opt[@]}" "$tmp/tiny.mp4" "$tmp/full/%02d.png"
"${opt[@]}" "$tmp/tiny.mp4" "$tmp/part/%02d.png" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 600); do [ -f "$tmp/part/%02d.png.nst-work/000001.png" ] && break; sleep 0.1; done
kill -INT $pid; wait $pid; status=$?
check '[ $status = 130 ]' "interrupted optimisation: exit $status, want 130"
check '[ -f "$tmp/part/%02d.png.nst-work/state.safetensors" ] && [ ! -f "$tmp/part/12.png" ]' \
    "interrupted: no work state, or the output appeared"
expect 2 "resume" "a stopped run without --resume" -- "${opt[@]}" "$tmp/tiny.mp4" "$tmp/part/%02d.png"
expect 0 "" "resume" -- "${opt[@]}" --resume "$tmp/tiny.mp4" "$tmp/part/%02d.png"
check 'cmp -s <(cd "$tmp/full" && md5sum ./*.png) <(cd "$tmp/part" && md5sum ./*.png)' \
    "resumed frames differ from an uninterrupted run"
check '[ ! -e "$tmp/part/%02d.png.nst-work" ]' "the work directory was not removed"

# 6. regions: a still mask, the left half in the network's style, the right
# kept as the clip, exactly (PNG frames, so the comparison is not the encoder's)
/usr/bin/python3 -c "
from PIL import Image
m = Image.new('L', (160, 120), 0); m.paste(255, (0, 0, 80, 120)); m.save('$tmp/vmask.png')"
mkdir "$tmp/reg" "$tmp/orig"
expect 0 "" "video --mask" -- "$nst" video -q --mask "$tmp/vmask.png" --region-style "white=$net" --region-style black=none \
    --duration 0.5 "$tmp/clip.mp4" "$tmp/reg/%02d.png"
# the clip's frames as nst decodes them (strength 0, no history: the frames themselves)
"$nst" video -q --net "$net" --strength 0 --temporal 0 --duration 0.5 "$tmp/clip.mp4" "$tmp/orig/%02d.png"
check '/usr/bin/python3 -c "
import sys
from PIL import Image, ImageChops
a, b = Image.open(\"$tmp/reg/03.png\").convert(\"RGB\"), Image.open(\"$tmp/orig/03.png\").convert(\"RGB\")
kept = ImageChops.difference(a.crop((100, 0, 160, 120)), b.crop((100, 0, 160, 120))).convert(\"L\")
painted = ImageChops.difference(a.crop((0, 0, 60, 120)), b.crop((0, 0, 60, 120))).convert(\"L\")
mean = lambda im: sum(im.getdata()) / (im.width * im.height)
sys.exit(0 if kept.getextrema()[1] == 0 and mean(painted) > 10 else 1)"' "video --mask: the kept half is not the clip's, or the painted half is not painted"
expect 2 "with --mask, each region's style comes from --region-style" "video --mask with --net" -- \
    "$nst" video --net "$net" --mask "$tmp/vmask.png" --region-style white=none "$tmp/clip.mp4" "$tmp/bad10.mp4"
expect 2 "the mask is 160x120, but the clip is 640x360" "a mask of another shape" -- \
    "$nst" video --mask "$tmp/vmask.png" --region-style "white=$net" --region-style black=none "$clip" "$tmp/bad11.mp4"

finish
