#!/usr/bin/env bash
# Install what nst needs (Debian/Ubuntu packages), build it, install the
# default loss network and stylise an example image into example.png.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
packages="cmake make gcc pkg-config curl ca-certificates libdnnl-dev libopenblas-dev libcjson-dev
          libstb-dev libzip-dev libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libsqlite3-dev
          chromium nodejs g++ libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
          libswresample-dev libavdevice-dev libopencv-video-dev ffmpeg python3-pil
          libopenmpi-dev openmpi-bin libpng-dev libjpeg62-turbo-dev libwebp-dev libheif-dev
          python3-numpy python3-pytest python3-venv python3-pip python3-setuptools groff-base"
# clang for the fuzz harnesses (tests/fuzz): -fsanitize=fuzzer links
# libclang_rt.fuzzer from libclang-rt-14-dev (libfuzzer-14-dev's libFuzzer.a
# is not needed); clang's OpenMP is libomp
packages="$packages clang libclang-rt-14-dev libomp-dev"
if ! dpkg -s $packages >/dev/null 2>&1; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages
fi
# npm, for the page's browser test (some nodejs packages include it)
command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
data=$(scripts/data.sh build/nst)
./build/nst models install darknet-tiny
time ./build/nst stylize -c "$data/images/content/tubingen.jpg" \
    -s "$data/images/style/starry_night.jpg" -o example.png --size 384 --iterations 200
