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
