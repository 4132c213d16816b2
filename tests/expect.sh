#!/usr/bin/env bash
# expect.sh CODE REGEX [REGEX...] -- COMMAND...: runs COMMAND; passes when it exits with CODE
# and every REGEX (grep -E) matches some line of its combined output (a REGEX written !REGEX
# must match none). Shows the output always.
set -uo pipefail
want_code=$1
shift
patterns=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    patterns+=("$1")
    shift
done
[ $# -gt 0 ] && shift  # the "--"
out=$("$@" 2>&1)
code=$?
printf '%s\n' "$out"
if [ "$code" -ne "$want_code" ]; then
    echo "expect.sh: exit code $code, wanted $want_code" >&2
    exit 1
fi
for p in "${patterns[@]}"; do
    if [ "${p:0:1}" = "!" ]; then
        if grep -Eq -- "${p:1}" <<<"$out"; then
            echo "expect.sh: output matches /${p:1}/" >&2
            exit 1
        fi
    elif ! grep -Eq -- "$p" <<<"$out"; then
        echo "expect.sh: output does not match /$p/" >&2
        exit 1
    fi
done
