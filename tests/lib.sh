# lib.sh: what the shell tests share (sourced): the pass/fail count, a
# temporary directory $tmp removed on exit, and the checks of what a test
# needs (a missing file or command fails the test, naming it).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
# the result line CTest's scripts print, and their status
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}
# need_files FILE...: each must exist
need_files() {
    local f
    for f; do
        [ -f "$f" ] || { echo "missing test data file $f"; echo "0 passed, 1 failed"; exit 1; }
    done
}
# need_command COMMAND PACKAGE
need_command() {
    command -v "$1" >/dev/null || { echo "$1 is missing (Debian package $2)"; echo "0 passed, 1 failed"; exit 1; }
}
# expect STATUS PATTERN DESCRIPTION -- command...: the exit status and a
# stderr line matching PATTERN (extended regex; "" for any); the output is
# kept in $tmp/stdout and $tmp/stderr
expect() {
    local want=$1 pattern=$2 what=$3; shift 4
    "$@" >"$tmp/stdout" 2>"$tmp/stderr"; local got=$?
    if [ "$got" != "$want" ]; then bad "$what: exit $got, want $want"; tail -20 "$tmp/stderr"; return; fi
    if [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$tmp/stderr"; then
        bad "$what: stderr does not match '$pattern':"; tail -20 "$tmp/stderr"; return
    fi
    ok
}
