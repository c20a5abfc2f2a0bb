#!/usr/bin/env bash
# cmake --install into a staging prefix, then, against the installed tree
# only: the program runs from it, examples/ builds through pkg-config and
# through find_package(nst), and both examples paint a picture.
# usage: install.sh BUILD_DIR SOURCE_DIR SHARED_DIR [EXTRA_CFLAGS]
build=$(realpath "$1") src=$(realpath "$2") shared=$(realpath "$3") cflags=${4:-}
. "$(dirname "$0")/lib.sh"
need_files "$shared/images/content/tubingen.jpg" "$shared/images/style/wave.jpg" \
    "$shared/models/darknet-tiny/model.json" "$shared/models/fast/wave/manifest.json"
need_command pkg-config pkg-config
need_command cc gcc
need_command ffprobe ffmpeg
stage=$tmp/stage
cmake --install "$build" --prefix "$stage" >"$tmp/install.log" 2>&1 || { bad "cmake --install"; tail "$tmp/install.log"; }
soname=$(readelf -d "$build/libnst.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
lib=$(find "$stage" -name libnst.so -printf '%h\n' | head -1)
for f in bin/nst include/nst.h; do [ -e "$stage/$f" ] && ok || bad "not installed: $f"; done
for f in "$soname" pkgconfig/nst.pc cmake/nst/nstConfig.cmake cmake/nst/nstConfigVersion.cmake; do
    [ -e "$lib/$f" ] && ok || bad "not installed: $lib/$f"
done
# the manual page (every command has its section, groff has no warning) and bash completion
man=$(find "$stage" -name nst.1 | head -1)
if [ -n "$man" ]; then
    for c in stylize apply train video models serve; do grep -q "^.SH \"nst $c\"" "$man" && ok || bad "nst.1 has no section for nst $c"; done
    w=$(groff -man -ww -z "$man" 2>&1); [ -z "$w" ] && ok || bad "groff warns about nst.1: $w"
else
    bad "not installed: share/man/man1/nst.1"
fi
comp=$(find "$stage" -path '*bash-completion/completions/nst' | head -1)
words=$(bash -c '. "$1"; COMP_WORDS=("$2" video --temp); COMP_CWORD=2; _nst; echo "${COMPREPLY[*]}"' _ "$comp" "$stage/bin/nst")
[ "$words" = "--temporal" ] && ok || bad "completing 'nst video --temp' gave '$words'"
# the installed program finds the installed library (its RUNPATH), not the build's
expect 0 "" "the installed nst --version" -- "$stage/bin/nst" --version
grep -qE '^nst [0-9]+\.[0-9]+\.[0-9]+ \(libnst [0-9.]+\)$' "$tmp/stdout" && ok || bad "nst --version printed: $(cat "$tmp/stdout")"
ldd "$stage/bin/nst" | grep -q "$stage/.*libnst.so" && ok || bad "the installed nst does not load the installed libnst.so: $(ldd "$stage/bin/nst" | grep nst)"

export PKG_CONFIG_PATH=$lib/pkgconfig NST_MODELS=$shared/models:$shared/models/fast
[ "$(pkg-config --modversion nst)" = "$(sed -n 's/^nst \([0-9.]*\) .*/\1/p' "$tmp/stdout")" ] && ok \
    || bad "nst.pc's version $(pkg-config --modversion nst) is not the program's"
for ex in stylize apply; do
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Wextra -Werror $cflags "$src/examples/$ex.c" $(pkg-config --cflags --libs nst) \
        -Wl,-rpath,"$lib" -o "$tmp/$ex" 2>"$tmp/cc.log" && ok || { bad "$ex.c through pkg-config"; cat "$tmp/cc.log"; }
done
photo=$shared/images/content/tubingen.jpg
expect 0 "iteration 10/10" "examples/stylize" -- "$tmp/stylize" "$photo" "$shared/images/style/wave.jpg" "$tmp/s.png" 96 10
size=$(ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 "$tmp/s.png" 2>&1)
[ "$size" = "png,96,72" ] && ok || bad "examples/stylize wrote $size, want a 96x72 PNG"
expect 0 "" "examples/apply" -- "$tmp/apply" wave "$photo" "$tmp/a.png" 128
grep -q "a.png: 128x96, libnst" "$tmp/stdout" && ok || bad "apply printed: $(cat "$tmp/stdout")"
expect 2 "usage" "examples/apply without arguments" -- "$tmp/apply"
expect 1 "nope.jpg" "examples/apply on a missing photo" -- "$tmp/apply" wave "$tmp/nope.jpg" "$tmp/b.png"
[ ! -e "$tmp/b.png" ] && ok || bad "a failed apply left b.png"

# the header from C++ (its cancel flag is std::atomic<int> there)
if command -v c++ >/dev/null; then
    printf '%s\n' '#include <nst.h>' 'int main() { nst_cancel_flag f{0}; nst_stylize_params p;' \
        'nst_stylize_params_init(&p); p.cancel = &f; f = 1; return nst_version()[0] == 0; }' >"$tmp/cxx.cc"
    # shellcheck disable=SC2086
    c++ -std=c++17 -Wall -Wextra -Werror $cflags "$tmp/cxx.cc" $(pkg-config --cflags --libs nst) -Wl,-rpath,"$lib" \
        -o "$tmp/cxx" 2>"$tmp/cxx.log" && "$tmp/cxx" && ok || { bad "nst.h from C++"; cat "$tmp/cxx.log"; }
fi
# the same examples through find_package(nst)
cmake -S "$src/examples" -B "$tmp/ex" -DCMAKE_PREFIX_PATH="$stage" -DCMAKE_C_FLAGS="$cflags" >"$tmp/ex.log" 2>&1 &&
    cmake --build "$tmp/ex" >>"$tmp/ex.log" 2>&1 && ok || { bad "examples/ through find_package(nst)"; tail -20 "$tmp/ex.log"; }
expect 0 "" "examples/apply built by CMake" -- "$tmp/ex/apply" wave "$photo" "$tmp/c.png" 64
finish
