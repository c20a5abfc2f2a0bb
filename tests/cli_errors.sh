#!/usr/bin/env bash
# The nst command as a user meets it: exit codes (0 ok, 1 runtime, 2 usage),
# one-line errors that name the file, no partial outputs, determinism, and
# model installation from a mirror with sha256 checks.
# usage: cli_errors.sh NST_BINARY SHARED_DIR
nst=$1
shared=$2
model=$shared/models/darknet-tiny
content=$shared/images/content/tubingen.jpg
style=$shared/images/style/starry_night.jpg
. "$(dirname "$0")/lib.sh"
need_files "$model/model.json" "$content" "$style"
run=("$nst" stylize --model "$model" --size 48 --iterations 3 -q)

# progress: plain lines when stderr is not a terminal (the time left is
# estimated once iterations have been measured), a live bar on a terminal
expect 0 "^iter    1/12 .* estimating left$" "progress lines" -- "$nst" stylize --model "$model" -c "$content" -s "$style" -o "$tmp/pl.png" --size 48 --iterations 12 --print-every 4
grep -qE "^iter   12/12 .* [0-9]+s left$" "$tmp/stderr" && ok || bad "no time left at the end: $(cat "$tmp/stderr")"
if command -v script >/dev/null; then
    script -qec "'$nst' stylize --model '$model' -c '$content' -s '$style' -o '$tmp/bar.png' --size 48 --iterations 12" /dev/null >"$tmp/bar.out" 2>&1
    grep -q $'\r\[' "$tmp/bar.out" && grep -q "\[########################\] 12/12" "$tmp/bar.out" &&
        ! grep -q "^iter " "$tmp/bar.out" && ok || bad "no live progress bar on a terminal: $(cat -v "$tmp/bar.out")"
else
    echo "SKIP the live progress bar: no 'script' command to give nst a terminal"
fi

# standard input and output
"${run[@]}" -c - -s "$style" -o - <"$content" >"$tmp/stdout.png" 2>"$tmp/stdio.err"
[ "$(head -c 8 "$tmp/stdout.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && ok ||
    bad "stylize -c - -o -: not a PNG on standard output: $(cat "$tmp/stdio.err")"
"${run[@]}" -c "$content" -s "$style" -o - --format jpg >"$tmp/stdout.jpg" 2>"$tmp/stdio.err"
[ "$(head -c 3 "$tmp/stdout.jpg" | od -An -tx1 | tr -d ' \n')" = ffd8ff ] && ok || bad "stylize --format jpg: not a JPEG: $(cat "$tmp/stdio.err")"
expect 2 "'-' \(standard input\) can be only one of the images" "stdin twice" -- "${run[@]}" -c - -s - -o "$tmp/o.png"
expect 2 "--format is for -o - \(standard output\)" "--format with a file" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --format png
expect 2 "--format: 'gif' is not png, jpg, bmp or tga" "--format gif" -- "${run[@]}" -c "$content" -s "$style" -o - --format gif
echo "not a picture" | "${run[@]}" -c - -s "$style" -o "$tmp/o.png" 2>"$tmp/stdio.err"; st=$?
[ "$st" = 1 ] && grep -q "standard input: not an image" "$tmp/stdio.err" && ok || bad "text on standard input: exit $st, $(cat "$tmp/stdio.err")"

# Ctrl-C: the picture so far is kept beside the output, exit 130 (the shell's for SIGINT)
"$nst" stylize --model "$model" -c "$content" -s "$style" -o "$tmp/int.png" --iterations 100000 --size 64 2>"$tmp/int.err" &
int_pid=$!
for _ in $(seq 1 600); do grep -q "^iter" "$tmp/int.err" && break; sleep 0.1; done
kill -INT "$int_pid"; wait "$int_pid"; int_status=$?
[ "$int_status" = 130 ] && [ -s "$tmp/int_interrupted.png" ] && [ ! -e "$tmp/int.png" ] &&
    grep -q "interrupted at iteration [0-9]*; the picture so far is in $tmp/int_interrupted.png" "$tmp/int.err" && ok ||
    bad "Ctrl-C: exit $int_status, $(ls "$tmp" | grep int), stderr: $(cat "$tmp/int.err")"

expect 2 "usage" "no arguments" -- "$nst"
expect 0 "" "help" -- "$nst" --help
expect 0 "" "stylize help" -- "$nst" stylize --help
expect 2 "unknown command 'frobnicate'" "unknown command" -- "$nst" frobnicate
expect 2 "content image is needed" "no content" -- "${run[@]}" -s "$style" -o "$tmp/o.png"
expect 2 "style image is needed" "no style" -- "${run[@]}" -c "$content" -o "$tmp/o.png"
expect 1 "$tmp/nope.jpg: no such file" "missing content" -- "${run[@]}" -c "$tmp/nope.jpg" -s "$style" -o "$tmp/o.png"
echo "hello" > "$tmp/text.jpg"
expect 1 "$tmp/text.jpg: .*(not an image|unrecognised|corrupt)" "text file as image" -- "${run[@]}" -c "$content" -s "$tmp/text.jpg" -o "$tmp/o.png"
head -c 20000 "$content" > "$tmp/trunc.jpg"
expect 1 "$tmp/trunc.jpg: .*(truncated|corrupt)" "truncated JPEG" -- "${run[@]}" -c "$tmp/trunc.jpg" -s "$style" -o "$tmp/o.png"
expect 2 "$tmp/o.gif: unsupported output format" "output format" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.gif"
expect 2 "--precision: 'fp16' is not fp32 or bf16" "unknown precision" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --precision fp16
expect 2 "$tmp/no/such/dir/o.png: directory $tmp/no/such/dir does not exist" "output directory" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/no/such/dir/o.png"
expect 2 "$tmp is a directory: give a file name" "output is a directory" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp"
touch "$tmp/plainfile"
expect 2 "$tmp/plainfile/o.png: $tmp/plainfile is not a directory" "output under a file" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/plainfile/o.png"
expect 0 "nst --version prints the version" "version in the help" -- sh -c '"$0" --help >&2' "$nst"
expect 2 "--style-weight: 'abc' is not a number" "non-numeric weight" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --style-weight abc
expect 2 "--size: 100000 is out of range" "absurd size" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --size 100000
expect 2 "--iterations: '-5'|--iterations: -5" "negative iterations" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --iterations -5
expect 2 "unknown layer 'relu9_9'" "unknown layer" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --style-layers relu9_9
expect 2 "--optimizer: 'sgd'" "unknown optimizer" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --optimizer sgd
expect 2 "unknown option --frob" "unknown option" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/o.png" --frob
# a PPM header claiming an absurd size
printf 'P6\n100000 100000\n255\n' > "$tmp/huge.ppm"
expect 1 "$tmp/huge.ppm: .*too large" "absurd image dimensions" -- "${run[@]}" -c "$tmp/huge.ppm" -s "$style" -o "$tmp/o.png"
# a truncated weight shard
mkdir -p "$tmp/badmodel"
cp "$model"/* "$tmp/badmodel/"
chmod u+w "$tmp/badmodel"/*
head -c 1000 "$model/group19-shard1of1" > "$tmp/badmodel/group19-shard1of1"
expect 1 "group19-shard1of1.*truncated" "truncated weights" -- "$nst" stylize --model "$tmp/badmodel" --size 48 --iterations 3 -q -c "$content" -s "$style" -o "$tmp/o.png"
# a mismatched weights file: a kernel shape that does not fit the topology
sed 's/"name": "conv2d_2\/kernel", "shape": \[3, 3, 16, 32\]/"name": "conv2d_2\/kernel", "shape": [3, 3, 16, 31]/' "$model/model.json" > "$tmp/badmodel/model.json"
cp "$model/group19-shard1of1" "$tmp/badmodel/"
if ! cmp -s "$model/model.json" "$tmp/badmodel/model.json"; then
    expect 1 "badmodel" "mismatched weights" -- "$nst" stylize --model "$tmp/badmodel" --size 48 --iterations 3 -q -c "$content" -s "$style" -o "$tmp/o.png"
else
    bad "could not make a mismatched model.json (pattern not found)"
fi
[ -e "$tmp/o.png" ] && bad "a failed run left $tmp/o.png" || ok
ls "$tmp" | grep -q '^o.png\|\.tmp\|\.part' && bad "temporary files left in $tmp: $(ls "$tmp")" || ok

# success, and determinism: same inputs, seed and threads give identical bytes
expect 0 "" "small run" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/a.png" --threads 2 --init noise --seed 7
expect 0 "" "small run again" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/b.png" --threads 2 --init noise --seed 7
cmp -s "$tmp/a.png" "$tmp/b.png" && ok || bad "same seed and threads gave different images"
expect 0 "" "adam, two styles, scales, original colours, save-every" -- "${run[@]}" -c "$content" -s "$style" -s "$shared/images/style/the_scream.jpg" --style-blend 3,1 -o "$tmp/c.png" --optimizer adam --learning-rate 10 --scales 2 --original-colors --save-every 3 --pooling avg --padding zero
[ -f "$tmp/c.png" ] && [ -f "$tmp/c_s2_0003.png" ] && ok || bad "adam run outputs missing: $(ls "$tmp")"
if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo; then
    expect 0 "" "bf16 run" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/d.png" --precision bf16
else
    expect 2 "no bfloat16 instructions" "bf16 on a CPU without it" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/d.png" --precision bf16
fi

# models
expect 0 "" "models list" -- "$nst" models
grep -q "darknet-tiny" "$tmp/stdout" && ok || bad "models list does not show darknet-tiny"
expect 2 "unknown model 'nosuch'" "install unknown model" -- "$nst" models install nosuch
expect 0 "" "install from mirror" -- "$nst" models install darknet-tiny --mirror "$shared/models" --dir "$tmp/models"
[ -f "$tmp/models/darknet-tiny/model.json" ] && ok || bad "installed model missing"
mkdir -p "$tmp/mirror/darknet-tiny"
cp "$model"/* "$tmp/mirror/darknet-tiny/"
chmod u+w "$tmp/mirror/darknet-tiny"/*
printf 'x' | dd of="$tmp/mirror/darknet-tiny/group5-shard1of1" bs=1 seek=10 conv=notrunc 2>/dev/null
expect 1 "group5-shard1of1: sha256 mismatch" "corrupt mirror" -- "$nst" models install darknet-tiny --mirror "$tmp/mirror" --dir "$tmp/models2"
[ -e "$tmp/models2/darknet-tiny" ] && bad "a failed install left a model behind" || ok
expect 0 "" "models layers" -- "$nst" models layers "$model"
grep -q "leaky_re_lu_10" "$tmp/stdout" && ok || bad "models layers does not list leaky_re_lu_10"

# nst apply --style: any painting through the arbitrary-style pair
pair=$shared/models/magenta-arbitrary
if [ -f "$pair/style_transfer_f16_384.tflite" ]; then
    a=("$nst" apply --arbitrary "$pair" -q)
    expect 0 "" "apply --style" -- "${a[@]}" --style "$style" "$content" --size 96 -o "$tmp/arb.png"
    expect 0 "" "apply --save-style without inputs" -- "${a[@]}" --style "$style" --save-style "$tmp/v.json"
    expect 0 "" "apply --style v.json" -- "${a[@]}" --style "$tmp/v.json" "$content" --size 96 -o "$tmp/arb2.png"
    cmp -s "$tmp/arb.png" "$tmp/arb2.png" && ok || bad "a saved style vector paints differently from its painting"
    expect 0 "" "apply two styles blended, strength" -- "${a[@]}" --style "$style" --style "$content" --style-blend 2,1 --strength 0.5 "$content" --size 96 -o "$tmp/arb3.png"
    cmp -s "$tmp/arb.png" "$tmp/arb3.png" && bad "blend and strength changed nothing" || ok
    expect 2 "--net and --style exclude each other" "apply --net and --style" -- "${a[@]}" --net scream --style "$style" "$content" -o "$tmp/arb4.png"
    expect 2 "--style-blend has 1 weight for 2 styles" "apply blend count" -- "${a[@]}" --style "$style" --style "$content" --style-blend 1 "$content" -o "$tmp/arb4.png"
    expect 1 "$tmp/text.jpg: " "apply a text file as the painting" -- "${a[@]}" --style "$tmp/text.jpg" "$content" -o "$tmp/arb4.png"
    echo '{"format": "nst-style-vector", "vector": [1, 2]}' > "$tmp/short.json"
    expect 1 "$tmp/short.json: a style vector of 2 numbers, the networks take 100" "apply a short style vector" -- "${a[@]}" --style "$tmp/short.json" "$content" -o "$tmp/arb4.png"
    expect 1 "no style_predict.*pair there" "apply --arbitrary without the pair" -- "$nst" apply --arbitrary "$tmp" --style "$style" "$content" -o "$tmp/arb4.png"
    [ -e "$tmp/arb4.png" ] && bad "a failed apply --style left $tmp/arb4.png" || ok
    expect 0 "" "install the arbitrary-style pair from the mirror" -- "$nst" models install magenta-arbitrary --mirror "$shared/models" --dir "$tmp/models"
    [ -f "$tmp/models/magenta-arbitrary/style_predict_quantized_256.tflite" ] && [ -f "$tmp/models/magenta-arbitrary/style_transfer_f16_384.tflite" ] && ok || bad "installed pair incomplete: $(ls "$tmp/models/magenta-arbitrary")"
else
    bad "missing test data $pair/style_transfer_f16_384.tflite"
fi

# nst apply: feed-forward style networks
fast=$shared/models/fast/scream
if [ -f "$fast/manifest.json" ]; then
    expect 0 "" "apply" -- "$nst" apply --net "$fast" "$content" --size 64 -o "$tmp/ap.png" -q
    [ -f "$tmp/ap.png" ] && ok || bad "apply output missing"
    expect 0 "" "apply by name, strength, original colours, tiles" -- "$nst" apply --net scream "$content" --size 200 --strength 0.7 --original-colors --tile 96 -o "$tmp/ap2.jpg" -q
    [ -f "$tmp/ap2.jpg" ] && ok || bad "apply by name output missing"
    cp "$content" "$tmp/one.jpg"
    cp "$shared/images/content/stata.jpg" "$tmp/two.jpg"
    expect 0 "" "apply several into a dir" -- "$nst" apply --net "$fast" --size 48 "$tmp/one.jpg" "$tmp/two.jpg" -o "$tmp/apdir" -q
    [ -f "$tmp/apdir/one.jpg" ] && [ -f "$tmp/apdir/two.jpg" ] && ok || bad "apply dir outputs: $(ls "$tmp/apdir")"
    /usr/bin/python3 -c "from PIL import Image; Image.new('RGB', (8, 6), (200, 100, 50)).save('$tmp/tiny.png'); Image.new('RGB', (4000, 300), (20, 100, 250)).save('$tmp/pano.png')"
    expect 0 "warning: $tmp/tiny.png is 8x6; --size 256 \(the long side\) enlarges it 32x to 256x192" "apply warns of a large enlargement" -- "$nst" apply --net "$fast" "$tmp/tiny.png" --size 256 -o "$tmp/tiny_out.png"
    expect 0 "warning: $tmp/pano.png becomes 256x19 at --size 256 \(the long side\): 19 px is too thin" "apply warns of a thin result" -- "$nst" apply --net "$fast" "$tmp/pano.png" --size 256 -o "$tmp/pano_out.png"
    expect 0 "" "no warning with -q" -- "$nst" apply --net "$fast" "$tmp/tiny.png" --size 256 -o "$tmp/tiny_out.png" -q
    [ -s "$tmp/stderr" ] && bad "apply -q printed: $(cat "$tmp/stderr")" || ok
    "$nst" apply --net "$fast" - --size 48 -o - -q <"$content" >"$tmp/ap_stdout.png"
    [ "$(head -c 4 "$tmp/ap_stdout.png" | od -An -tx1 | tr -d ' \n')" = 89504e47 ] && ok || bad "apply - -o -: not a PNG"
    /usr/bin/python3 -c "from PIL import Image; im = Image.new('RGBA', (64, 48), (200, 30, 30, 255)); im.paste((0, 0, 0, 0), (32, 0, 64, 48)); im.save('$tmp/alpha.png')"
    expect 0 "note: $tmp/alpha.png has transparent pixels; nst paints it flattened onto white" "apply says alpha is flattened" -- "$nst" apply --net "$fast" "$tmp/alpha.png" -o "$tmp/alpha_out.png"
    expect 2 "-o - \(standard output\) takes one input, not 2" "apply two inputs to standard output" -- "$nst" apply --net "$fast" "$tmp/one.jpg" "$tmp/two.jpg" -o -
    expect 2 "-o $tmp/both.png: 2 inputs need an output directory" "apply several inputs to an image name" -- "$nst" apply --net "$fast" --size 48 "$tmp/one.jpg" "$tmp/two.jpg" -o "$tmp/both.png" -q
    [ -e "$tmp/both.png" ] && bad "apply made $tmp/both.png for two inputs" || ok
    expect 0 "wrote $tmp/apdir3/one.jpg " "apply into DIR/ (one slash in the names)" -- "$nst" apply --net "$fast" --size 48 "$tmp/one.jpg" "$tmp/two.jpg" -o "$tmp/apdir3/"
    mkdir -p "$tmp/sub" && cp "$tmp/one.jpg" "$tmp/sub/one.jpg"
    expect 2 "$tmp/one.jpg and $tmp/sub/one.jpg would both be written to $tmp/apdir4/one.jpg" "apply two inputs of one name" -- "$nst" apply --net "$fast" --size 48 "$tmp/one.jpg" "$tmp/sub/one.jpg" -o "$tmp/apdir4"
    [ -e "$tmp/apdir4" ] && bad "a refused apply created $tmp/apdir4" || ok
    expect 1 "$tmp/missing.jpg: no such file" "apply with a missing input among several" -- "$nst" apply --net "$fast" --size 48 "$tmp/one.jpg" "$tmp/missing.jpg" "$tmp/text.jpg" "$tmp/two.jpg" -o "$tmp/apdir2" -q
    grep -q "$tmp/text.jpg" "$tmp/stderr" && ok || bad "apply did not report the text file"
    [ -f "$tmp/apdir2/one.jpg" ] && [ -f "$tmp/apdir2/two.jpg" ] && [ ! -e "$tmp/apdir2/missing.jpg" ] && ok || bad "apply did not paint the good inputs: $(ls "$tmp/apdir2")"
    expect 2 "--strength: 1.5 is out of range" "apply bad strength" -- "$nst" apply --net "$fast" "$content" --strength 1.5 -o "$tmp/ap3.png"
    expect 2 "--strength: 'x' is not a number" "apply non-numeric strength" -- "$nst" apply --net "$fast" "$content" --strength x -o "$tmp/ap3.png"
    expect 2 "no model named 'nosuchnet' and no such file" "apply unknown net" -- "$nst" apply --net nosuchnet "$content" -o "$tmp/ap3.png"
    expect 2 "no model named 'screem': did you mean 'scream'\?" "apply misspelt net" -- "$nst" apply --net screem "$content" -o "$tmp/ap3.png"
    expect 2 "--net $style: this is an image, not a style network; to paint in its style use --style" "apply --net painting.jpg" -- "$nst" apply --net "$style" "$content" -o "$tmp/ap3.png"
    expect 2 "unknown option --sizes: did you mean --size\?" "apply misspelt option" -- "$nst" apply --net "$fast" "$content" --sizes 64 -o "$tmp/ap3.png"
    expect 2 "unknown option --iteratons: did you mean --iterations\?" "stylize misspelt option" -- "${run[@]}" -c "$content" -s "$style" -o "$tmp/ap3.png" --iteratons 3
    expect 2 "unknown option --frobnicate \(nst train --help\)" "train unknown option, nothing near" -- "$nst" train --frobnicate
    expect 2 "a style is needed: --net" "apply without --net or --style" -- "$nst" apply "$content" -o "$tmp/ap3.png"
    expect 2 "$tmp/ap3.gif: unsupported output format" "apply output format" -- "$nst" apply --net "$fast" "$content" -o "$tmp/ap3.gif"
    expect 1 "darknet-tiny/manifest.json: cannot open" "apply with a loss network" -- "$nst" apply --net "$model" "$content" -o "$tmp/ap3.png"
    [ -e "$tmp/ap3.png" ] && bad "a failed apply left $tmp/ap3.png" || ok
    expect 0 "" "apply help" -- "$nst" apply --help
    expect 0 "" "models list" -- "$nst" models
    grep -q "scream.*style network" "$tmp/stdout" && ok || bad "models list does not show the style networks"
    expect 0 "" "install a style network from the mirror" -- "$nst" models install wave --mirror "$shared/models" --dir "$tmp/models"
    [ -f "$tmp/models/wave/Variable_47" ] && [ -f "$tmp/models/wave/manifest.json" ] && ok || bad "installed style network incomplete"
else
    bad "missing test data $fast/manifest.json"
fi

# nst train: a feed-forward style network for a painting
mkdir -p "$tmp/photos" "$tmp/nophotos"
cp "$content" "$tmp/photos/a.jpg"
cp "$tmp/text.jpg" "$tmp/photos/b.jpg"
train=("$nst" train --model "$model" --crop 64 --batch-size 1 --iterations 2 -q)
expect 2 "$tmp/nophotos: no readable images" "train on an empty directory" -- "${train[@]}" -s "$style" --content-dir "$tmp/nophotos" -o "$tmp/t.nst"
expect 2 "$tmp/nodir: cannot open the content directory" "train on a missing directory" -- "${train[@]}" -s "$style" --content-dir "$tmp/nodir" -o "$tmp/t.nst"
expect 2 "style image is needed" "train without a style" -- "${train[@]}" --content-dir "$tmp/photos" -o "$tmp/t.nst"
expect 1 "$tmp/nope.jpg: no such file" "train with a missing style" -- "${train[@]}" -s "$tmp/nope.jpg" --content-dir "$tmp/photos" -o "$tmp/t.nst"
expect 2 "--batch-size: 'x' is not an integer" "train bad batch size" -- "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/t.nst" --batch-size x
expect 2 "t.nst: directory .*/no/such does not exist" "train unwritable output" -- "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/no/such/t.nst"
[ -e "$tmp/t.nst" ] && bad "a failed train left $tmp/t.nst" || ok
expect 0 "b.jpg" "train 2 iterations (skipping a text file)" -- "$nst" train --model "$model" --crop 64 --batch-size 1 --iterations 2 -s "$style" --content-dir "$tmp/photos" -o "$tmp/t.nst" --loss-csv "$tmp/t.csv" --loss-plot "$tmp/t.png"
[ "$(wc -l < "$tmp/t.csv")" = 3 ] && [ -f "$tmp/t.png" ] && ok || bad "train loss csv/plot missing"
expect 0 "" "apply a trained network" -- "$nst" apply --net "$tmp/t.nst" "$content" --size 64 -o "$tmp/tap.png" -q
[ -f "$tmp/tap.png" ] && ok || bad "apply with the trained network wrote nothing"
# upsampling: a new network is 'nearest'; the file records it and loading checks it
grep -qaF 'upsample\":\"nearest' "$tmp/t.nst" && ok || bad "t.nst does not record upsample nearest"
expect 2 "--upsample: 'bilinear' is not nearest or deconv" "train --upsample bilinear" -- "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/up.nst" --upsample bilinear
expect 2 "scream: its upsampling is deconv, not nearest" "fine-tune a deconv network as nearest" -- env NST_MODELS="$shared/models/fast" "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/up.nst" --init-net scream --upsample nearest
expect 2 "$tmp/t.nst: its upsampling is nearest, not deconv" "resume a nearest network as deconv" -- "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/t.nst" --iterations 4 --resume --upsample deconv
[ -e "$tmp/up.nst" ] && bad "a refused train left $tmp/up.nst" || ok
perl -0777 -pe 's/upsample\\":\\"nearest/upsample\\":\\"bicubic/' "$tmp/t.nst" > "$tmp/bicubic.nst"
expect 1 "$tmp/bicubic.nst: unknown \"upsample\" bicubic in its architecture" "apply a network with an unknown upsampling" -- "$nst" apply --net "$tmp/bicubic.nst" "$content" -o "$tmp/tap3.png" -q
perl -0777 -pe 's/architecture/architectur_/' "$tmp/t.nst" > "$tmp/noarch.nst"
expect 1 "$tmp/noarch.nst: its \"architecture\" metadata is missing" "apply a network without its architecture" -- "$nst" apply --net "$tmp/noarch.nst" "$content" -o "$tmp/tap3.png" -q
[ -e "$tmp/tap3.png" ] && bad "a refused apply left $tmp/tap3.png" || ok
expect 0 "" "train a deconv network from scratch" -- "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/dc.nst" --upsample deconv
grep -qaF 'upsample\":\"deconv' "$tmp/dc.nst" && ok || bad "dc.nst does not record upsample deconv"
expect 0 "" "fine-tune a network named by the search path" -- env NST_MODELS="$shared/models/fast" "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/ft.nst" --init-net scream
expect 2 "no model named .nosuchnet." "fine-tune an unknown network" -- "${train[@]}" -s "$style" --content-dir "$tmp/photos" -o "$tmp/ft2.nst" --init-net nosuchnet
expect 1 "t.csv: not a safetensors file" "apply a non-network file" -- "$nst" apply --net "$tmp/t.csv" "$content" -o "$tmp/tap2.png" -q

# stylize --batch: malformed files name the file and line; options that are the file's
printf 'content,style\n%s,%s\n' "$content" "$style" > "$tmp/nocol.csv"
expect 2 "nocol.csv:1: the header has no 'output' column" "batch without an output column" -- "$nst" stylize --batch "$tmp/nocol.csv"
printf 'content,style,output,colour\n' > "$tmp/unk.csv"
expect 2 "unk.csv:1: column 'colour' is unknown" "batch with an unknown column" -- "$nst" stylize --batch "$tmp/unk.csv"
printf 'content,style,output\n"%s,%s,%s\n' "$content" "$style" "$tmp/q.png" > "$tmp/quote.csv"
expect 2 "quote.csv:2: an unclosed or stray quote" "batch with an unclosed quote" -- "$nst" stylize --batch "$tmp/quote.csv"
printf 'content,style,output\n%s,%s,%s,extra\n' "$content" "$style" "$tmp/q.png" > "$tmp/extra.csv"
expect 2 "extra.csv:2: more fields than the header's 3" "batch with an extra field" -- "$nst" stylize --batch "$tmp/extra.csv"
printf 'content,style,output\n' > "$tmp/nojobs.csv"
expect 2 "nojobs.csv: a header but no jobs" "batch without jobs" -- "$nst" stylize --batch "$tmp/nojobs.csv"
expect 2 "nosuch.csv: cannot open the batch file" "batch file missing" -- "$nst" stylize --batch "$tmp/nosuch.csv"
expect 2 "the contents, styles and outputs are the file's" "batch with -c" -- "$nst" stylize --batch "$tmp/nojobs.csv" -c "$content"
expect 2 "--resume goes with --batch" "stylize --resume without a batch" -- "$nst" stylize -c "$content" -s "$style" --resume
printf 'content,style,output,options\n%s,%s,%s,--size 48 --iterations 2\n%s,%s,%s,--iterations x\n' "$content" "$style" "$tmp/b1.png" "$content" "$style" "$tmp/b2.png" > "$tmp/jobs.csv"
expect 1 "jobs.csv:3: --iterations: 'x' is not an integer" "a batch with a bad job" -- "$nst" stylize --batch "$tmp/jobs.csv" --model "$model"
if [ -f "$tmp/b1.png" ] && [ ! -e "$tmp/b2.png" ]; then ok; else bad "the good job of a batch wrote, the bad one did not"; fi
expect 1 "jobs.csv:2: kept .*b1.png" "a rerun with --resume keeps what exists" -- "$nst" stylize --batch "$tmp/jobs.csv" --model "$model" --resume --iterations 2

# regions: a mask, a style per region, none keeps the photo
/usr/bin/python3 -c "
from PIL import Image
Image.open('$content').convert('RGB').resize((128, 96)).save('$tmp/photo.png')
m = Image.new('RGB', (128, 96), (255, 0, 0)); m.paste((0, 0, 255), (64, 0, 128, 96)); m.save('$tmp/mask.png')
Image.new('RGB', (100, 100), (255, 0, 0)).save('$tmp/square_mask.png')"
r=("$nst" stylize --model "$model" -c "$tmp/photo.png" --size 64 --iterations 3 -q -o "$tmp/r.png")
expect 0 "" "stylize --mask" -- "${r[@]}" --mask "$tmp/mask.png" --region-style red="$style" --region-style '#00f=none'
expect 2 "--region-style needs --mask PATH" "--region-style alone" -- "${r[@]}" --region-style red="$style"
expect 2 "--mask needs a painting \(or none\) per region" "--mask alone" -- "${r[@]}" --mask "$tmp/mask.png"
expect 2 "with --mask, each region's painting comes from --region-style" "--mask and -s" -- "${r[@]}" -s "$style" --mask "$tmp/mask.png" --region-style red="$style"
expect 2 "--region-style: 'red' is not LABEL=VALUE" "--region-style without =" -- "${r[@]}" --mask "$tmp/mask.png" --region-style red
expect 2 "mask label 'sky'" "unknown label" -- "${r[@]}" --mask "$tmp/mask.png" --region-style sky="$style"
expect 2 "$tmp/mask.png: no pixel of the mask has the label colour #00ff00" "a label the mask lacks" -- "${r[@]}" --mask "$tmp/mask.png" --region-style red="$style" --region-style green=none
expect 2 "$tmp/square_mask.png: the mask is 100x100, but the photo is 128x96" "a mask of another shape" -- "${r[@]}" --mask "$tmp/square_mask.png" --region-style red="$style"
expect 2 "every --region-style is none" "nothing to paint" -- "${r[@]}" --mask "$tmp/mask.png" --region-style red=none --region-style blue=none
expect 1 "$tmp/nomask.png: no such file" "a missing mask" -- "${r[@]}" --mask "$tmp/nomask.png" --region-style red="$style"
if [ -d "$shared/models/fast/scream" ]; then
    expect 0 "" "apply --mask" -- "$nst" apply -q --mask "$tmp/mask.png" --region-style red="$shared/models/fast/scream" \
        --region-style blue=none "$tmp/photo.png" -o "$tmp/ra.png"
    # the unpainted half, away from the feathered edge, is the photo's
    /usr/bin/python3 -c "
import sys
from PIL import Image, ImageChops
a = Image.open('$tmp/ra.png').convert('RGB').crop((80, 0, 128, 96)); b = Image.open('$tmp/photo.png').crop((80, 0, 128, 96))
c = Image.open('$tmp/ra.png').convert('RGB').crop((0, 0, 48, 96)); d = Image.open('$tmp/photo.png').crop((0, 0, 48, 96))
kept = max(ImageChops.difference(a, b).getextrema()[k][1] for k in range(3))
painted = sum(ImageChops.difference(c, d).convert('L').getdata()) / (48 * 96)
sys.exit(0 if kept <= 1 and painted > 10 else print(f'kept half off by {kept}, painted half by {painted:.1f}') or 1)" && ok ||
        bad "apply --mask: the none region is not the photo, or the other is not painted"
    expect 2 "with --mask, each region's style comes from --region-style" "apply --mask and --net" -- "$nst" apply --net scream --mask "$tmp/mask.png" --region-style red=none "$tmp/photo.png" -o "$tmp/ra.png"
else
    bad "missing test data $shared/models/fast/scream"
fi

finish
