#!/usr/bin/env bash
# expect.sh CODE REGEX -- COMMAND...: runs COMMAND, passes when it exits with CODE and its
# combined output matches REGEX (grep -E). Shows the output when it fails.
set -uo pipefail
want_code=$1 pattern=$2
shift 2
[ "$1" = "--" ] && shift
out=$("$@" 2>&1)
code=$?
if [ "$code" -ne "$want_code" ]; then
    printf '%s\n' "$out"
    echo "expect.sh: exit code $code, wanted $want_code" >&2
    exit 1
fi
if ! grep -Eq -- "$pattern" <<<"$out"; then
    printf '%s\n' "$out"
    echo "expect.sh: output does not match /$pattern/" >&2
    exit 1
fi
printf '%s\n' "$out"
