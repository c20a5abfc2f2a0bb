#!/usr/bin/env bash
# libnst.so exports the functions that include/nst.h declares (NST_API)
# and nothing else: no internal symbol leaks into a caller's namespace. And
# it needs neither libzip, libcurl nor libcrypto to load: they are opened
# when a .pth file is read or a model downloaded (src/io/optional_libs.c).
# usage: exports.sh LIBNST_SO NST_H
lib=$1 header=$2
. "$(dirname "$0")/lib.sh"
need_files "$lib" "$header"
need_command nm binutils
# the linker's own markers, and what the sanitizers add to an instrumented build
# (symbol versions, name@@NST_0.3, stripped; the version node itself is type A)
nm -D --defined-only "$lib" | awk '$2 != "A" {sub(/@.*/, "", $NF); print $NF}' | grep -vE '^(__bss_start|_edata|_end|_init|_fini)$|^__(asan|odr_asan|sancov|ubsan)' \
    | sort -u >"$tmp/exported"
grep -oE 'NST_API [^(]*\bnst_[a-z0-9_]+\(' "$header" | grep -oE 'nst_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] && ok || bad "no NST_API declaration found in $header"
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
[ -z "$extra" ] && ok || bad "exported but not declared in nst.h:" $extra
[ -z "$missing" ] && ok || bad "declared in nst.h but not exported:" $missing
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case "$needed" in *libzip*|*libcurl*|*libcrypto*) bad "libnst.so needs at load time: $needed";; *) ok;; esac
echo "$(wc -l <"$tmp/exported") symbols exported; needed: $needed"
finish
