#!/usr/bin/env bash
# expect.sh CODE REGEX [REGEX...] [--unless CONDITION REGEX...] -- COMMAND...: runs COMMAND;
# passes when it exits with CODE and every REGEX (grep -E) matches some line of its combined
# output (a REGEX written !REGEX must match none). The REGEXes after `--unless CONDITION` are
# judged only when no line matches CONDITION: a run in which Open MPI's spawn hung for real
# (rare, and not tide's doing) cannot show what a run whose spawns all worked shows, and says so.
# Shows the output as it comes (a run stopped by ctest's timeout still shows how far it got).
set -uo pipefail
want_code=$1
shift
patterns=() waivable=() condition=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    if [ "$1" = "--unless" ]; then
        condition=$2
        shift 2
        continue
    fi
    if [ -n "$condition" ]; then waivable+=("$1"); else patterns+=("$1"); fi
    shift
done
[ $# -gt 0 ] && shift  # the "--"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
out=$(cat "$log")
if [ "$code" -ne "$want_code" ]; then
    echo "expect.sh: exit code $code, wanted $want_code" >&2
    exit 1
fi
if [ -n "$condition" ] && grep -Eq -- "$condition" <<<"$out"; then
    echo "expect.sh: the output matches /$condition/, so these are not judged:" >&2
    printf '  /%s/\n' "${waivable[@]}" >&2
    waivable=()
fi
for p in "${patterns[@]}" "${waivable[@]}"; do
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
