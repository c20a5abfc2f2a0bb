#!/usr/bin/env bash
# The studio page end to end in Debian's headless Chromium (e2e.js), against
# a real nst serve. playwright-core is installed from package-lock.json into
# NODE_DIR (under the build directory) when it is not there yet.
# usage: e2e.sh NST_BINARY SHARED_DIR NODE_DIR SCREENSHOT [SIZE ITERATIONS]
nst=$1 shared=$2 node_dir=$3 shot=$4
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || { echo "FAIL /usr/bin/chromium is missing (scripts/setup.sh installs it)"; echo "0 passed, 1 failed"; exit 1; }
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" || [ ! -d "$node_dir/node_modules/playwright-core" ]; then
    mkdir -p "$node_dir"
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "FAIL npm ci in $node_dir"; echo "0 passed, 1 failed"; exit 1; }
fi
start_server "$tmp/data" --checkpoint-every 10
# the fake camera's clip (a moving test pattern)
if command -v ffmpeg >/dev/null; then
    ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=10 -t 3 -pix_fmt yuv420p "$tmp/camera.y4m" &&
        export CAMERA_Y4M=$tmp/camera.y4m
    ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=12 -t 2 -pix_fmt yuv420p "$tmp/clip.mp4" &&
        export CLIP=$tmp/clip.mp4
fi
E2E_DATA=$tmp/data NODE_PATH=$node_dir/node_modules node "$here/e2e.js" "$url/" "$content" "$shared/images/style/starry_night.jpg" "$shot" "${5:-256}" "${6:-300}"
rc=$?
stop_server
# the page of a --token server
secret=e2e-secret-token-0123456789
echo "$secret" > "$tmp/token"
start_server "$tmp/data-token" --token "$tmp/token"
NODE_PATH=$node_dir/node_modules node "$here/e2e.js" token "$url/" "$secret" || rc=1
stop_server
[ "$fail" = 0 ] && exit $rc
exit 1
