#!/usr/bin/env bash
# journal_cases.sh CASE DIR JOURNALED PROBE: what a run makes of a journal it is given, through
# tests/programs/journaled.cpp (JOURNALED) and tests/programs/probe.cpp (PROBE), judged by
# tests/expect.sh. CASE is one of:
#   failed   failed tasks are not journaled and run again, alone; nested children are not
#            journaled (the second run records the 10 driver tasks it ran, not their children)
#   damaged  a byte flipped in the middle: the run stops with the reason and the flag and runs
#            nothing; with --tide-journal-salvage the 99 records that check answer their tasks
#   other    a journal of another program, or made with another salt, stops the run
set -euo pipefail
case=$1 dir=$2 journaled=$3 probe=$4
expect=$(dirname "${BASH_SOURCE[0]}")/expect.sh
rm -rf "$dir" && mkdir -p "$dir"
j=$dir/journal
case $case in
    failed)
        "$expect" 0 '^200 tasks: 190 results right, 0 wrong, 10 failed; resumed 0, journal recorded 190$' \
            -- "$journaled" 200 0 "$dir/ran" fail=20 --tide-journal="$j"
        "$expect" 0 '^200 tasks: 200 results right, 0 wrong, 0 failed; resumed 190, journal recorded 10$' \
            -- "$journaled" 200 0 "$dir/ran-again" --tide-journal="$j"
        [ "$(sort -u "$dir/ran-again" | tr '\n' ' ')" = "0 100 120 140 160 180 20 40 60 80 " ]
        ;;
    damaged)
        "$journaled" 100 0 "$dir/ran" --tide-journal="$j" >/dev/null 2>&1
        size=$(stat -c %s "$j")
        python3 - "$j" "$((size / 2))" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    at = int(sys.argv[2])
    f.seek(at)
    b = f.read(1)[0]
    f.seek(at)
    f.write(bytes([b ^ 0x04]))
PY
        "$expect" 2 'is damaged at byte [0-9]+ .*Nothing was run.*--tide-journal-salvage' \
            -- "$journaled" 100 0 "$dir/ran-2" --tide-journal="$j"
        [ ! -e "$dir/ran-2" ]  # nothing ran
        "$expect" 0 'resumed 99, journal recorded 1$' 'salvaged 99 result' \
            -- "$journaled" 100 0 "$dir/ran-3" --tide-journal="$j" --tide-journal-salvage
        [ -e "$j.damaged" ] && [ "$(wc -l <"$dir/ran-3")" -eq 1 ]
        ;;
    other)
        "$journaled" 10 0 "$dir/ran" --tide-journal="$j" >/dev/null 2>&1
        "$expect" 2 "is another program's: it was written by 'tide_journaled'.*--tide-journal-adopt" \
            -- "$probe" --tide-journal="$j"
        "$expect" 2 "made with another salt: --tide-journal-salt was '', now 'v2'" \
            -- "$journaled" 10 0 "$dir/ran" --tide-journal="$j" --tide-journal-salt=v2
        ;;
    *) echo "journal_cases.sh: unknown case '$case'" >&2; exit 2 ;;
esac
echo "journal_cases.sh $case: passed"
