#!/usr/bin/env bash
# Build nst twice, optimised and with AddressSanitizer + UndefinedBehaviorSanitizer,
# and run the whole test suite on both. Needs what scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
data=$(scripts/data.sh build/nst)
cmake -S . -B build -DNST_SHARED_DIR="$data" >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNST_SANITIZE=ON -DNST_SHARED_DIR="$data" >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j2
# Fuzzing (tests/fuzz): the harnesses built with clang + libFuzzer + ASan +
# UBSan replay their corpus and regression inputs, then fuzz 30 s each.
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNST_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug -DNST_SHARED_DIR="$data" >/dev/null
cmake --build build-fuzz --target fuzz -j"$(nproc)"
ctest --test-dir build-fuzz -R fuzz_replay --output-on-failure
tests/fuzz/smoke.sh build-fuzz 30
