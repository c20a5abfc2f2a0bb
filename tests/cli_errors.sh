#!/usr/bin/env bash
# CLI behaviour: exit codes, one-line errors, no partial outputs.
nst=$1
shared=$2
pass=0 fail=0
expect() { # expect STATUS DESCRIPTION -- command...
    local want=$1 what=$2; shift 3
    "$@" >/tmp/nst_cli_out.$$ 2>&1; local got=$?
    if [ "$got" = "$want" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL $what: exit $got, want $want"; cat /tmp/nst_cli_out.$$; fi
}
expect 2 "no arguments" -- "$nst"
expect 2 "unknown command" -- "$nst" frobnicate
rm -f /tmp/nst_cli_out.$$
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
