#!/usr/bin/env bash
# Make the result pictures of the README (docs/images/) and print the time
# each took. usage: scripts/readme_examples.sh [NST_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
nst=${1:-build/nst}
data=$(scripts/data.sh "$nst")
mkdir -p docs/images
for style in starry_night the_scream shipwreck; do
    start=$(date +%s%N)
    "$nst" stylize -c "$data/images/content/tubingen.jpg" -s "$data/images/style/$style.jpg" \
        -o "docs/images/tubingen_$style.jpg" --size 512 --print-every 0
    ms=$((($(date +%s%N) - start) / 1000000))
    printf '%s: %d.%d s\n' "$style" $((ms / 1000)) $((ms % 1000 / 100))
done
# the colour controls beside the plain result above
for mode in luminance histogram; do
    "$nst" stylize -c "$data/images/content/tubingen.jpg" -s "$data/images/style/starry_night.jpg" \
        -o "docs/images/tubingen_starry_night_$mode.jpg" --size 512 --print-every 0 --color-transfer "$mode"
done
# regions: the sky (blue, bright, in the upper 62 %, cleaned by a median
# filter) white, the rest black; then the sky in The Starry Night and the
# town in The Scream, and the sky alone with the town kept as the photo
/usr/bin/python3 - "$data/images/content/tubingen.jpg" docs/images/tubingen_sky_mask.png <<'PY'
import sys
import numpy as np
from PIL import Image, ImageFilter
im = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(float)
r, b = im[..., 0], im[..., 2]
rows = np.arange(im.shape[0])[:, None] < 0.62 * im.shape[0]
sky = (b > 130) & (b - r > 35) & rows
Image.fromarray((sky * 255).astype(np.uint8)).filter(ImageFilter.MedianFilter(9)).resize((512, 384)).save(sys.argv[2])
PY
"$nst" stylize -c "$data/images/content/tubingen.jpg" --mask docs/images/tubingen_sky_mask.png \
    --region-style "white=$data/images/style/starry_night.jpg" --region-style "black=$data/images/style/the_scream.jpg" \
    -o docs/images/tubingen_regions_two.jpg --size 512 --print-every 0
"$nst" stylize -c "$data/images/content/tubingen.jpg" --mask docs/images/tubingen_sky_mask.png \
    --region-style "white=$data/images/style/starry_night.jpg" --region-style black=none \
    -o docs/images/tubingen_regions_sky.jpg --size 512 --print-every 0
