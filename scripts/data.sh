#!/usr/bin/env bash
# Print the directory that holds nst's example and test data (models/,
# models/fast/ and images/, laid out as ../shared is). Where ../shared exists it is used as it
# is; elsewhere the few files the examples and tests need are fetched from
# their public origins into build/data, each checked against its sha256.
# usage: scripts/data.sh NST_BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
nst=${1:?usage: scripts/data.sh NST_BINARY}
shared=$(cd "$root/.." && pwd)/shared
if [ -f "$shared/images/content/tubingen.jpg" ] && [ -f "$shared/models/darknet-tiny/model.json" ] &&
   [ -f "$shared/models/fast/scream/manifest.json" ] && [ -d "$shared/images/photos" ]; then
    echo "$shared"
    exit 0
fi
data=$root/build/data
origin=https://raw.githubusercontent.com/jcjohnson/neural-style/HEAD/examples/inputs
# path under images/, sha256
files="content/tubingen.jpg e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506
style/starry_night.jpg 0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098
style/starry_night_crop.png 776279d5e9daf676fb7e36c9eab953497445d4b3422bdd660b96ce984ac39721
style/the_scream.jpg f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee
style/shipwreck.jpg 4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213"
while read -r rel sum; do
    dst=$data/images/$rel
    if [ ! -f "$dst" ] || ! echo "$sum  $dst" | sha256sum -c --status; then
        mkdir -p "$(dirname "$dst")"
        echo "fetching $origin/$(basename "$rel")" >&2
        curl -fsSL --retry 3 -o "$dst.part" "$origin/$(basename "$rel")"
        if ! echo "$sum  $dst.part" | sha256sum -c --status; then
            rm -f "$dst.part"
            echo "scripts/data.sh: $origin/$(basename "$rel"): sha256 mismatch" >&2
            exit 1
        fi
        mv "$dst.part" "$dst"
    fi
done <<< "$files"
# a small stand-in for the 300 BSDS500 training photos of ../shared/images/photos
mkdir -p "$data/images/photos"
cp "$data/images/content/tubingen.jpg" "$data/images/style/shipwreck.jpg" "$data/images/photos/"
[ -f "$data/models/darknet-tiny/model.json" ] || "$nst" models install darknet-tiny --dir "$data/models" >&2
[ -f "$data/models/fast/scream/manifest.json" ] || "$nst" models install scream --dir "$data/models/fast" >&2
echo "$data"
