#!/usr/bin/env bash
# Crash consistency of the long commands: nst train --resume and nst video
# --method optimize --resume, each killed with SIGKILL at random moments
# (up to KILLS times each, default 12; the runs are longer for more) and
# rerun with --resume until it finishes, end as an uninterrupted run, byte
# for byte (the network's pictures and its loss CSV; every frame), and a
# kill never leaves a truncated file under an output's name.
# usage: kill_resume.sh NST_BINARY SHARED_DIR [KILLS]
nst=$(realpath "$1")
shared=$(realpath "$2")
kills=${3:-12}
style=$shared/images/style/wave.jpg
. "$(dirname "$0")/lib.sh"
need_files "$style" "$shared/images/photos/100075.jpg" "$shared/models/darknet-tiny/model.json"
cd "$tmp" || exit 1
# the work grows with the kills, so that most runs are killed before the end
scale=$(( (kills + 11) / 12 ))
RANDOM=11
# killed CMD...: run it in the background and SIGKILL it after 0.2..1.4 s;
# 0 if it was killed; 1 if it ended first (its status in $status)
killed() {
    "$@" 2>/dev/null &
    local pid=$! t=$((2 + RANDOM % 13))
    for _ in $(seq "$t"); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    if kill -9 $pid 2>/dev/null; then wait $pid 2>/dev/null; return 0; fi
    wait $pid
    status=$?
    return 1
}

mkdir photos
for f in "$shared"/images/photos/10*.jpg; do ln -s "$f" photos/; done
train=("$nst" train --style "$style" --content-dir photos --crop 64 --seed 5 --iterations $((40 * scale))
       --checkpoint-every 1 --threads 1 -q)
"${train[@]}" -o whole.nst --loss-csv whole.csv || bad "train, uninterrupted"
n=0 resume="" status=-1
for i in $(seq "$kills"); do
    killed "${train[@]}" -o part.nst --loss-csv part.csv $resume || break
    n=$((n+1))
    [ -e part.nst ] && resume=--resume
    if [ -e part.nst ]; then # what the kill left under the name is a whole checkpoint
        "$nst" apply -q --threads 1 --net part.nst --size 32 "$shared/images/photos/100075.jpg" -o check.png ||
            bad "after kill $i: part.nst is not a whole network"
    fi
done
[ "$n" = "$kills" ] && { "${train[@]}" -o part.nst --loss-csv part.csv $resume; status=$?; }
[ "$status" = 0 ] || bad "train, the last resumed run: exit $status"
echo "  train: killed $n times, then finished"
[ "$n" -ge $((kills / 2)) ] && ok || bad "train: only $n of $kills runs were killed (too fast?)"
# (the files differ in their recorded training time; the weights must not)
for f in whole part; do "$nst" apply -q --threads 1 --net $f.nst --size 96 "$shared/images/photos/100075.jpg" -o $f.png; done
cmp -s whole.png part.png && ok || bad "train: the resumed network paints otherwise than the uninterrupted one"
[ "$(cut -d, -f1-5 whole.csv)" = "$(cut -d, -f1-5 part.csv)" ] && ok || { bad "train: the loss CSVs differ"; diff <(cut -d, -f1-5 whole.csv) <(cut -d, -f1-5 part.csv) | head -5; }

ffmpeg -v error -f lavfi -i testsrc2=size=96x72:rate=8 -t $((2 * scale)) -c:v libx264 -pix_fmt yuv420p clip.mp4
video=("$nst" video --method optimize -s "$style" --iterations 60 --iterations-first 80 --threads 1 -q)
mkdir full part
"${video[@]}" clip.mp4 full/%02d.png || bad "video, uninterrupted"
n=0 resume="" status=-1
for i in $(seq "$kills"); do
    killed "${video[@]}" $resume clip.mp4 part/%02d.png || break
    n=$((n+1))
    resume=--resume
done
[ "$n" = "$kills" ] && { "${video[@]}" --resume clip.mp4 part/%02d.png; status=$?; }
[ "$status" = 0 ] || bad "video, the last resumed run: exit $status"
echo "  video: killed $n times, then finished"
[ "$n" -ge $((kills / 2)) ] && ok || bad "video: only $n of $kills runs were killed (too fast?)"
[ "$(ls part | wc -l)" = $((16 * scale)) ] && cmp -s <(cd full && md5sum ./*.png) <(cd part && md5sum ./*.png) && ok ||
    bad "video: the resumed frames differ from an uninterrupted run"
[ ! -e "part/%02d.png.nst-work" ] && ok || bad "video: the work directory was left"

finish
