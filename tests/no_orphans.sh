#!/usr/bin/env bash
# no_orphans.sh COMMAND...: runs COMMAND with a marker in its environment (which every process it
# starts inherits: mpirun's daemons, spawned workers); passes COMMAND's exit code through, but
# fails when any marked process is still alive 10 s after COMMAND returned.
set -uo pipefail
marker="no-orphans-$$-$RANDOM"
ORPHAN_CHECK_MARK=$marker "$@"
code=$?
marked() {  # the PIDs whose environment carries the marker (one grep over all of /proc)
    grep -lxz "ORPHAN_CHECK_MARK=$marker" /proc/[0-9]*/environ 2>/dev/null |
        sed 's|^/proc/\([0-9]*\)/environ$|\1|' || true
}
for _ in $(seq 100); do
    left=$(marked)
    [ -z "$left" ] && exit "$code"
    sleep 0.1
done
echo "no_orphans.sh: processes left behind:" >&2
for pid in $left; do ps -o pid,ppid,etime,cmd -p "$pid" >&2; done
kill -9 $left 2>/dev/null
exit 1
