#!/usr/bin/env bash
# Runs the park-and-wake test on 4 ranks with --tide-timeline (via TIDE_TIMELINE) as CSV and as
# JSON, and checks both files: the header, rows in time order, two workers parked at some point,
# and a shrink and a grow event with their reasons.
#   timeline_check.sh MPIRUN TIDE_MPI_TESTS WORKDIR
set -euo pipefail
mpirun=$1 tests=$2 dir=$3
mkdir -p "$dir"
for ext in csv json; do
    file="$dir/timeline.$ext"
    rm -f "$file"
    TIDE_TIMELINE="$file" "$mpirun" -x TIDE_TIMELINE -n 4 "$tests" --gtest_filter='Elastic.*' >/dev/null
    python3 - "$file" <<'PY'
import csv, json, sys
path = sys.argv[1]
if path.endswith(".json"):
    rows = json.load(open(path))["timeline"]
else:
    with open(path) as f:
        assert f.readline().strip() == "seconds,busy,idle,parked,starting,queued,backlog_seconds,event"
        f.seek(0)
        rows = list(csv.DictReader(f))
times = [float(r["seconds"]) for r in rows]
assert times == sorted(times), "rows out of time order"
assert max(int(r["parked"]) for r in rows) == 2, "two workers were never parked"
events = [r["event"] for r in rows if r["event"]]
assert any(e.startswith("shrink:") for e in events), events
assert any(e.startswith("grow:") and "parked 2" in e for e in events), events
print(f"{path}: {len(rows)} rows, events: {events}")
PY
done
